package kycd

import (
	"context"
	"io"
)

// Vault holds the keys: the master key and each tenant's data keys. It
// encrypts personal fields and file contents so that nothing personal reaches
// the database or the blob store in the clear.
type Vault interface {
	// NewTenantKeys creates a tenant's data keys and returns them wrapped
	// (encrypted with the master key), ready to be stored with the tenant.
	NewTenantKeys(tenantID string) (wrapped []byte, err error)
	// Seal encrypts plaintext for a tenant. The associated data binds the
	// ciphertext to its place (table, column, row id): moved elsewhere it no
	// longer decrypts.
	Seal(ctx context.Context, tenantID string, plaintext, associatedData []byte) ([]byte, error)
	// Open decrypts what Seal produced.
	Open(ctx context.Context, tenantID string, ciphertext, associatedData []byte) ([]byte, error)
	// BlindIndex returns a keyed, deterministic digest of a value, used to
	// find or de-duplicate encrypted values (emails, phones) without
	// decrypting them.
	BlindIndex(ctx context.Context, tenantID, purpose, value string) (string, error)
	// EncryptingWriter returns a writer that encrypts a stream into w; the
	// caller must Close it.
	EncryptingWriter(ctx context.Context, tenantID string, w io.Writer, associatedData []byte) (io.WriteCloser, error)
	// DecryptingReader returns a reader of the plaintext of an encrypted stream.
	DecryptingReader(ctx context.Context, tenantID string, r io.Reader, associatedData []byte) (io.Reader, error)
	// ChainMAC returns the keyed digest that links audit entries: without the
	// master key, nobody who can write to the database can forge a chain.
	ChainMAC(message []byte) string
	// SignURL and VerifyURL authenticate short-lived URLs kycd hands out.
	SignURL(message []byte) string
	VerifyURL(message []byte, signature string) bool
}

// TenantKeyStore gives the vault the wrapped data keys of a tenant.
type TenantKeyStore interface {
	// FindTenantKeys returns a tenant's wrapped data keys, or ENotFound.
	FindTenantKeys(ctx context.Context, tenantID string) ([]byte, error)
}

// SystemKeyStore keeps kycd's own wrapped keys (URL signing, ...), shared by
// every node that uses the same database and master key.
type SystemKeyStore interface {
	// FindSystemKey returns a wrapped system key, or ENotFound.
	FindSystemKey(ctx context.Context, name string) ([]byte, error)
	// CreateSystemKey stores a wrapped system key unless one of that name
	// exists already; it returns the one stored.
	CreateSystemKey(ctx context.Context, name string, wrapped []byte) ([]byte, error)
}
