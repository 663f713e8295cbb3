package evidence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Space is one process's folder for scratch files, under a root that
// several processes may share (serve and worker on one data folder). The
// process holds a lock on it while it lives; opening a space removes the
// folders of processes that died (killed mid-download, their scratch
// files are unreadable without their keys, but still take disk).
type Space struct {
	Dir  string
	lock *os.File
}

// OpenSpace makes this process's scratch folder under root and removes
// those of dead processes.
func OpenSpace(root string) (*Space, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock scratch folder: %w", err)
	}
	s := &Space{Dir: dir, lock: lock}
	entries, err := os.ReadDir(root)
	if err != nil {
		return s, nil
	}
	for _, e := range entries {
		other := filepath.Join(root, e.Name())
		if other == dir {
			continue
		}
		if !e.IsDir() {
			_ = os.Remove(other) // a scratch file of an older layout
			continue
		}
		if dead(other) {
			_ = os.RemoveAll(other)
		}
	}
	return s, nil
}

// dead reports whether the process that owns a space is gone: its lock
// can be taken.
func dead(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return true
	} else if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

// Close releases the space and removes it.
func (s *Space) Close() error {
	err := os.RemoveAll(s.Dir)
	if cerr := s.lock.Close(); err == nil {
		err = cerr
	}
	return err
}
