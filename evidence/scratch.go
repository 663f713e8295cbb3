package evidence

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// Scratch is a temporary file for evidence being checked: a zip must be
// read at random to be inspected, and evidence can be far larger than
// memory should hold. Its content is encrypted (AES-CTR) under a key that
// exists only in memory, so the plaintext never reaches the disk, and the
// file is removed on Close. It is written once, in order, then read.
type Scratch struct {
	f     *os.File
	block cipher.Block
	iv    [aes.BlockSize]byte
	size  int64
	buf   []byte
}

// NewScratch creates a scratch file in dir ("" for the system's temporary folder).
func NewScratch(dir string) (*Scratch, error) {
	key := make([]byte, 32)
	s := &Scratch{}
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if _, err := rand.Read(s.iv[:]); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	s.block = block
	if s.f, err = os.CreateTemp(dir, "kycd-evidence-*"); err != nil {
		return nil, err
	}
	return s, nil
}

// xorAt applies the key stream at offset off.
func (s *Scratch) xorAt(dst, src []byte, off int64) {
	ctr := s.iv
	lo := binary.BigEndian.Uint64(ctr[8:])
	hi := binary.BigEndian.Uint64(ctr[:8])
	n := uint64(off / aes.BlockSize)
	if lo+n < lo {
		hi++
	}
	binary.BigEndian.PutUint64(ctr[8:], lo+n)
	binary.BigEndian.PutUint64(ctr[:8], hi)
	stream := cipher.NewCTR(s.block, ctr[:])
	if skip := off % aes.BlockSize; skip > 0 {
		var junk [aes.BlockSize]byte
		stream.XORKeyStream(junk[:skip], junk[:skip])
	}
	stream.XORKeyStream(dst, src)
}

// Write appends p, encrypted.
func (s *Scratch) Write(p []byte) (int, error) {
	if cap(s.buf) < len(p) {
		s.buf = make([]byte, len(p))
	}
	b := s.buf[:len(p)]
	s.xorAt(b, p, s.size)
	n, err := s.f.WriteAt(b, s.size)
	s.size += int64(n)
	return n, err
}

// ReadAt reads plaintext at off (io.ReaderAt).
func (s *Scratch) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("evidence: negative offset")
	}
	if off >= s.size {
		return 0, io.EOF
	}
	if rest := s.size - off; int64(len(p)) > rest {
		p = p[:rest]
		n, err := s.readAt(p, off)
		if err == nil {
			err = io.EOF
		}
		return n, err
	}
	return s.readAt(p, off)
}

func (s *Scratch) readAt(p []byte, off int64) (int, error) {
	n, err := s.f.ReadAt(p, off)
	s.xorAt(p[:n], p[:n], off)
	return n, err
}

// Size is how many bytes were written.
func (s *Scratch) Size() int64 { return s.size }

// Reader reads the plaintext from the start.
func (s *Scratch) Reader() io.Reader { return io.NewSectionReader(s, 0, s.size) }

// Close removes the file.
func (s *Scratch) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil {
		err = rerr
	}
	return err
}
