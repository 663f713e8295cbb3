package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/sqlstore"
	"github.com/kycd/kycd/vault"
)

// The master key rotation commands (docs/operations.md): add-master puts a
// new primary key into the master keyset file, rewrap wraps every stored
// data key under it, retire-master drops the earlier keys once nothing
// needs them. They work on the master key file kycd uses and never make one.

// keysCommand is adminCommand for the key commands, with the master key file
// required to exist. withDB is false for those that only change the file
// (a is nil then).
func keysCommand(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, withDB bool,
	fn func(o *options, a *app, path string) error) error {
	var o options
	fs := newFlags(name, getenv, stderr)
	fs.common(&o)
	if err := fs.parse(args); err != nil {
		return err
	}
	path := o.masterKeyPath()
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("master key file: %w", err)
	}
	o.MasterKeyFile = path // never generate one
	if !withDB {
		return fn(&o, nil, path)
	}
	a, err := openApp(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(&o, a, path)
}

func cmdKeysInfo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return keysCommand(ctx, "keys info", args, getenv, stderr, true, func(o *options, a *app, path string) error {
		info, err := vault.ReadMasterKeyInfo(path)
		if err != nil {
			return err
		}
		primary, err := vault.OpenPrimary(path)
		if err != nil {
			return err
		}
		total, older, err := wrappedUnderOlderKeys(ctx, a.db, primary)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(stdout, map[string]any{"primary": info.Primary, "keys": info.Keys, "stored": total, "needRewrap": older})
		}
		fmt.Fprintf(stdout, "master key %s: primary key %d, %d key(s) %v\n%d stored key(s), %d wrapped under an earlier master key\n",
			path, info.Primary, len(info.Keys), info.Keys, total, older)
		return nil
	})
}

func cmdKeysAddMaster(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return keysCommand(ctx, "keys add-master", args, getenv, stderr, false, func(o *options, a *app, path string) error {
		info, err := vault.AddMasterKey(path)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(stdout, map[string]any{"primary": info.Primary, "keys": info.Keys})
		}
		fmt.Fprintf(stdout, "added master key %d as primary (keys %v) to %s\n"+
			"next: give this file to every kycd node and restart them, then run kycd keys rewrap\n", info.Primary, info.Keys, path)
		return nil
	})
}

func cmdKeysRewrap(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return keysCommand(ctx, "keys rewrap", args, getenv, stderr, true, func(o *options, a *app, path string) error {
		stored, err := a.db.FindStoredKeys(ctx)
		if err != nil {
			return err
		}
		stored, failed := rewrapStored(a.vault, stored)
		if len(failed) > 0 {
			return failed[0]
		}
		if err := a.db.ReplaceStoredKeys(adminContext(ctx), stored, kycd.TenantKeysRewrapped); err != nil {
			return err
		}
		info, err := vault.ReadMasterKeyInfo(path)
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(stdout, map[string]any{"primary": info.Primary, "tenants": len(stored.Tenants), "system": len(stored.System)})
		}
		fmt.Fprintf(stdout, "rewrapped the keys of %d tenant(s) and %d system key(s) under master key %d\n"+
			"next, once every node has this file: kycd keys retire-master\n", len(stored.Tenants), len(stored.System), info.Primary)
		return nil
	})
}

func cmdKeysRetireMaster(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return keysCommand(ctx, "keys retire-master", args, getenv, stderr, true, func(o *options, a *app, path string) error {
		info, err := vault.RetireMasterKeys(path, func(primary *vault.Vault) error {
			_, older, err := wrappedUnderOlderKeys(ctx, a.db, primary)
			if err == nil && older > 0 {
				err = fmt.Errorf("%d stored key(s): %w", older, vault.ErrWrappedUnderRetiredKey)
			}
			return err
		})
		if err != nil {
			return err
		}
		if o.JSON {
			return printJSON(stdout, map[string]any{"primary": info.Primary, "keys": info.Keys})
		}
		fmt.Fprintf(stdout, "master key file %s now holds only key %d\ngive it to every kycd node; keep a backup of the earlier file until backups made before the rotation expire\n", path, info.Primary)
		return nil
	})
}

// wrappedUnderOlderKeys counts the stored keys, and those primary (a vault
// over the master's primary key alone) cannot open.
func wrappedUnderOlderKeys(ctx context.Context, db *sqlstore.DB, primary *vault.Vault) (total, older int, err error) {
	stored, err := db.FindStoredKeys(ctx)
	if err != nil {
		return 0, 0, err
	}
	_, failed := rewrapStored(primary, stored)
	return len(stored.Tenants) + len(stored.System), len(failed), nil
}

// rewrapStored wraps every stored key again under v's primary master key;
// failed holds the errors of those v cannot open.
func rewrapStored(v *vault.Vault, stored *sqlstore.StoredKeys) (out *sqlstore.StoredKeys, failed []error) {
	out = &sqlstore.StoredKeys{Tenants: map[string][]byte{}, System: map[string][]byte{}}
	for id, w := range stored.Tenants {
		if r, err := v.RewrapTenantKeys(id, w); err != nil {
			failed = append(failed, err)
		} else {
			out.Tenants[id] = r
		}
	}
	for name, w := range stored.System {
		if r, err := v.RewrapSystemKey(name, w); err != nil {
			failed = append(failed, err)
		} else {
			out.System[name] = r
		}
	}
	return out, failed
}
