// Package blob stores file contents with gocloud.dev/blob: a local folder by
// default (fileblob). Every content is encrypted with its tenant's data key
// (Tink streaming AEAD) before it reaches the bucket, and bound to its file id.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"

	"github.com/kycd/kycd"
)

// Store keeps encrypted file contents in a bucket.
type Store struct {
	bucket *blob.Bucket
	vault  kycd.Vault
}

// OpenDir opens a store over a local folder, creating it if needed.
func OpenDir(dir string, v kycd.Vault) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: false})
	if err != nil {
		return nil, fmt.Errorf("blob folder: %w", err)
	}
	return &Store{bucket: b, vault: v}, nil
}

// Close closes the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

func contentAD(fileID string) []byte { return []byte("files.content:" + fileID) }

// ErrTooLarge is returned by Put when the content exceeds its limit; nothing
// is kept.
var ErrTooLarge = errors.New("blob: content too large")

// Put encrypts and stores the content read from r under key, refusing more
// than max bytes. It returns the plaintext size and SHA-256. On any error
// nothing is kept under key.
func (s *Store) Put(ctx context.Context, tenantID, fileID, key string, r io.Reader, max int64) (int64, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return 0, "", err
	}
	fail := func(err error) (int64, string, error) {
		cancel() // a cancelled writer discards what it wrote
		_ = w.Close()
		return 0, "", err
	}
	enc, err := s.vault.EncryptingWriter(ctx, tenantID, w, contentAD(fileID))
	if err != nil {
		return fail(err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(enc, h), io.LimitReader(r, max+1))
	if err != nil {
		return fail(err)
	}
	if n > max {
		return fail(ErrTooLarge)
	}
	if err := enc.Close(); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Get returns a reader of the decrypted content stored under key.
func (s *Store) Get(ctx context.Context, tenantID, fileID, key string) (io.ReadCloser, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, kycd.NotFound("file")
	} else if err != nil {
		return nil, err
	}
	dec, err := s.vault.DecryptingReader(ctx, tenantID, r, contentAD(fileID))
	if err != nil {
		r.Close()
		return nil, err
	}
	return readCloser{Reader: dec, Closer: r}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Delete removes the content under key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.bucket.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return err
}
