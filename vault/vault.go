// Package vault implements kycd.Vault with Tink: a master AEAD key (a keyset
// file given by the operator, or generated into the data folder on first
// start) wraps per-tenant data keys (AEAD for fields, streaming AEAD for
// files, PRF for blind indexes) and kycd's system keys.
package vault

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/kycd/kycd"
	"github.com/kycd/kycd/keyfile"
)

// Vault implements kycd.Vault.
type Vault struct {
	master   tink.AEAD
	keys     kycd.TenantKeyStore
	urlKey   *prf.Set
	chainKey *prf.Set
	tenants  sync.Map // tenant id -> *tenantKeys
}

var _ kycd.Vault = (*Vault)(nil)

type tenantKeys struct {
	aead   tink.AEAD
	prf    *prf.Set
	stream tink.StreamingAEAD
}

// wrappedKeys is the stored form of a tenant's data keys: each keyset
// encrypted with the master key, bound to the tenant id.
type wrappedKeys struct {
	AEAD   []byte `json:"aead"`
	PRF    []byte `json:"prf"`
	Stream []byte `json:"stream"`
}

// LoadMasterKey reads the master keyset from path. When the file does not
// exist and create is true, it generates a new AES-256-GCM keyset there (mode
// 0600) and reports created=true so the caller can warn loudly.
func LoadMasterKey(path string, create bool) (master tink.AEAD, created bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
		if err != nil {
			return nil, false, err
		}
		if raw, err = encodeKeyset(h); err != nil {
			return nil, false, err
		}
		if err := keyfile.Create(path, raw); err != nil {
			return nil, false, fmt.Errorf("create master key: %w", err)
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("read master key: %w", err)
	}
	_, a, err := parseMaster(raw, path)
	return a, created, err
}

// parseMaster reads a master keyset file's content: a cleartext Tink keyset
// of AEAD keys.
func parseMaster(raw []byte, path string) (*keyset.Handle, tink.AEAD, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, nil, fmt.Errorf("parse master key %s: %w", path, err)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, nil, fmt.Errorf("master key is not an AEAD keyset: %w", err)
	}
	return h, a, nil
}

// encodeKeyset is the content of a master keyset file.
func encodeKeyset(h *keyset.Handle) ([]byte, error) {
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// New returns a vault over a master key, loading (or creating, once) the
// system keys it needs from sys.
func New(ctx context.Context, master tink.AEAD, keys kycd.TenantKeyStore, sys kycd.SystemKeyStore) (*Vault, error) {
	v := &Vault{master: master, keys: keys}
	var err error
	if v.urlKey, err = systemPRF(ctx, master, sys, "url-signing"); err != nil {
		return nil, err
	}
	if v.chainKey, err = systemPRF(ctx, master, sys, "audit-chain"); err != nil {
		return nil, err
	}
	return v, nil
}

// systemPRF loads the named system PRF key, creating it on first use.
func systemPRF(ctx context.Context, master tink.AEAD, sys kycd.SystemKeyStore, name string) (*prf.Set, error) {
	ad := systemAD(name)
	wrapped, err := sys.FindSystemKey(ctx, name)
	if kycd.ErrorCode(err) == kycd.ENotFound {
		fresh, err := wrapNew(master, prf.HMACSHA256PRFKeyTemplate(), ad)
		if err != nil {
			return nil, err
		}
		if wrapped, err = sys.CreateSystemKey(ctx, name, fresh); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	h, err := unwrap(master, wrapped, ad)
	if err != nil {
		return nil, err
	}
	return prf.NewPRFSet(h)
}

// wrapNew generates a keyset from a template and returns it encrypted with
// the master key, bound to ad.
func wrapNew(master tink.AEAD, tmpl *tinkpb.KeyTemplate, ad []byte) ([]byte, error) {
	h, err := keyset.NewHandle(tmpl)
	if err != nil {
		return nil, err
	}
	return wrap(master, h, ad)
}

// wrap returns a keyset encrypted with the master key, bound to ad.
func wrap(master tink.AEAD, h *keyset.Handle, ad []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), master, ad); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unwrap(master tink.AEAD, wrapped, ad []byte) (*keyset.Handle, error) {
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), master, ad)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key (wrong master key?): %w", err)
	}
	return h, nil
}

// NewTenantKeys implements kycd.Vault.
func (v *Vault) NewTenantKeys(tenantID string) ([]byte, error) {
	ad := tenantAD(tenantID)
	var w wrappedKeys
	var err error
	if w.AEAD, err = wrapNew(v.master, aead.AES256GCMKeyTemplate(), ad); err != nil {
		return nil, err
	}
	if w.PRF, err = wrapNew(v.master, prf.HMACSHA256PRFKeyTemplate(), ad); err != nil {
		return nil, err
	}
	// 4 KB segments: most files are images of a few hundred KB, and a 1 MB
	// segment buffer per file costs more than the extra tags. (Tenants made
	// with 1 MB segments keep them; both decrypt.)
	if w.Stream, err = wrapNew(v.master, streamingaead.AES256GCMHKDF4KBKeyTemplate(), ad); err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

func (v *Vault) tenant(ctx context.Context, tenantID string) (*tenantKeys, error) {
	if k, ok := v.tenants.Load(tenantID); ok {
		return k.(*tenantKeys), nil
	}
	raw, err := v.keys.FindTenantKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var w wrappedKeys
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("tenant %s keys: %w", tenantID, err)
	}
	ad := tenantAD(tenantID)
	k := &tenantKeys{}
	h, err := unwrap(v.master, w.AEAD, ad)
	if err != nil {
		return nil, err
	}
	if k.aead, err = aead.New(h); err != nil {
		return nil, err
	}
	if h, err = unwrap(v.master, w.PRF, ad); err != nil {
		return nil, err
	}
	if k.prf, err = prf.NewPRFSet(h); err != nil {
		return nil, err
	}
	if h, err = unwrap(v.master, w.Stream, ad); err != nil {
		return nil, err
	}
	if k.stream, err = streamingaead.New(h); err != nil {
		return nil, err
	}
	actual, _ := v.tenants.LoadOrStore(tenantID, k)
	return actual.(*tenantKeys), nil
}

// Seal implements kycd.Vault.
func (v *Vault) Seal(ctx context.Context, tenantID string, plaintext, ad []byte) ([]byte, error) {
	k, err := v.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return k.aead.Encrypt(plaintext, ad)
}

// Open implements kycd.Vault.
func (v *Vault) Open(ctx context.Context, tenantID string, ciphertext, ad []byte) ([]byte, error) {
	k, err := v.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return k.aead.Decrypt(ciphertext, ad)
}

// BlindIndex implements kycd.Vault.
func (v *Vault) BlindIndex(ctx context.Context, tenantID, purpose, value string) (string, error) {
	k, err := v.tenant(ctx, tenantID)
	if err != nil {
		return "", err
	}
	out, err := k.prf.ComputePrimaryPRF([]byte(purpose+"\x00"+value), 32)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// EncryptingWriter implements kycd.Vault.
func (v *Vault) EncryptingWriter(ctx context.Context, tenantID string, w io.Writer, ad []byte) (io.WriteCloser, error) {
	k, err := v.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return k.stream.NewEncryptingWriter(w, ad)
}

// DecryptingReader implements kycd.Vault.
func (v *Vault) DecryptingReader(ctx context.Context, tenantID string, r io.Reader, ad []byte) (io.Reader, error) {
	k, err := v.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return k.stream.NewDecryptingReader(r, ad)
}

// ChainMAC implements kycd.Vault.
func (v *Vault) ChainMAC(message []byte) string {
	out, err := v.chainKey.ComputePrimaryPRF(message, 32)
	if err != nil {
		panic(err) // HMAC over bytes cannot fail with a valid keyset
	}
	return hex.EncodeToString(out)
}

// SignURL implements kycd.Vault.
func (v *Vault) SignURL(message []byte) string {
	out, err := v.urlKey.ComputePrimaryPRF(message, 32)
	if err != nil {
		panic(err) // HMAC over bytes cannot fail with a valid keyset
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// VerifyURL implements kycd.Vault.
func (v *Vault) VerifyURL(message []byte, signature string) bool {
	want := v.SignURL(message)
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
