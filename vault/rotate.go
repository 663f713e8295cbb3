package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Rotating the master key happens in three steps, so that every node can
// open every data key at every moment (docs/operations.md):
//
//  1. AddMasterKey puts a new primary key into the master keyset file; the
//     earlier keys stay, so what they wrapped still opens. The file goes to
//     every node, which restarts with it.
//  2. Rewrap (RewrapTenantKeys, RewrapSystemKey) wraps every stored data
//     key again under the primary.
//  3. RetireMasterKeys removes the earlier keys from the file once nothing
//     is wrapped under them any more (CanOpen on a vault over the primary
//     alone tells).

// MasterKeyInfo describes the master keyset: its primary key id and every
// key id it holds.
type MasterKeyInfo struct {
	Primary uint32   `json:"primary"`
	Keys    []uint32 `json:"keys"`
}

// ReadMasterKeyInfo describes the master keyset at path.
func ReadMasterKeyInfo(path string) (*MasterKeyInfo, error) {
	h, err := readMasterHandle(path)
	if err != nil {
		return nil, err
	}
	return masterInfo(h), nil
}

// AddMasterKey adds a new AES-256-GCM key to the master keyset at path and
// makes it the primary: keys are wrapped under it from then on, and the
// earlier keys still open what they wrapped. The file is replaced
// atomically, mode 0600.
func AddMasterKey(path string) (*MasterKeyInfo, error) {
	h, err := readMasterHandle(path)
	if err != nil {
		return nil, err
	}
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, err
	}
	if err := m.SetPrimary(id); err != nil {
		return nil, err
	}
	if h, err = m.Handle(); err != nil {
		return nil, err
	}
	if err := writeMasterHandle(path, h); err != nil {
		return nil, err
	}
	return masterInfo(h), nil
}

// RetireMasterKeys removes every key but the primary from the master keyset
// at path. canRetire is given the primary alone and must make sure that
// everything stored opens with it; its error stops the retirement and
// leaves the file as it was.
func RetireMasterKeys(path string, canRetire func(primary *Vault) error) (*MasterKeyInfo, error) {
	primary, h, err := openPrimary(path)
	if err != nil {
		return nil, err
	}
	if err := canRetire(primary); err != nil {
		return nil, err
	}
	if err := writeMasterHandle(path, h); err != nil {
		return nil, err
	}
	return masterInfo(h), nil
}

// OpenPrimary returns a vault over the primary key of the master keyset at
// path alone, for rewrapping checks: what it cannot open needs an earlier
// key.
func OpenPrimary(path string) (*Vault, error) {
	v, _, err := openPrimary(path)
	return v, err
}

// openPrimary returns a vault over the primary key of the master keyset at
// path, and that keyset without its other keys.
func openPrimary(path string) (*Vault, *keyset.Handle, error) {
	h, err := readMasterHandle(path)
	if err != nil {
		return nil, nil, err
	}
	m := keyset.NewManagerFromHandle(h)
	info := masterInfo(h)
	for _, id := range info.Keys {
		if id != info.Primary {
			if err := m.Delete(id); err != nil {
				return nil, nil, err
			}
		}
	}
	if h, err = m.Handle(); err != nil {
		return nil, nil, err
	}
	primary, err := aead.New(h)
	if err != nil {
		return nil, nil, err
	}
	return &Vault{master: primary}, h, nil
}

// RewrapTenantKeys returns a tenant's stored data keys wrapped again under
// the vault's primary master key (the keys themselves do not change).
func (v *Vault) RewrapTenantKeys(tenantID string, stored []byte) ([]byte, error) {
	var w wrappedKeys
	if err := json.Unmarshal(stored, &w); err != nil {
		return nil, fmt.Errorf("tenant %s keys: %w", tenantID, err)
	}
	ad := tenantAD(tenantID)
	for _, k := range []*[]byte{&w.AEAD, &w.PRF, &w.Stream} {
		var err error
		if *k, err = rewrap(v.master, *k, ad); err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tenantID, err)
		}
	}
	return json.Marshal(w)
}

// RewrapSystemKey returns a stored system key wrapped again under the
// vault's primary master key.
func (v *Vault) RewrapSystemKey(name string, wrapped []byte) ([]byte, error) {
	out, err := rewrap(v.master, wrapped, systemAD(name))
	if err != nil {
		return nil, fmt.Errorf("system key %s: %w", name, err)
	}
	return out, nil
}

func rewrap(master tink.AEAD, wrapped, ad []byte) ([]byte, error) {
	h, err := unwrap(master, wrapped, ad)
	if err != nil {
		return nil, err
	}
	return wrap(master, h, ad)
}

func tenantAD(tenantID string) []byte { return []byte("tenant:" + tenantID) }
func systemAD(name string) []byte     { return []byte("system:" + name) }

func readMasterHandle(path string) (*keyset.Handle, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	h, _, err := parseMaster(raw, path)
	return h, err
}

// writeMasterHandle replaces the keyset file at path: written beside it,
// synced, then renamed over it, so a crash leaves the old or the new one.
func writeMasterHandle(path string, h *keyset.Handle) error {
	raw, err := encodeKeyset(h)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".master-key-*.json")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(raw)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write master key: %w", err)
	}
	return nil
}

func masterInfo(h *keyset.Handle) *MasterKeyInfo {
	ki := h.KeysetInfo()
	info := &MasterKeyInfo{Primary: ki.GetPrimaryKeyId()}
	for _, k := range ki.GetKeyInfo() {
		info.Keys = append(info.Keys, k.GetKeyId())
	}
	return info
}

// ErrWrappedUnderRetiredKey reports stored keys that only an earlier master
// key opens: rewrap them before retiring it.
var ErrWrappedUnderRetiredKey = errors.New("keys are still wrapped under an earlier master key; run kycd keys rewrap first")
