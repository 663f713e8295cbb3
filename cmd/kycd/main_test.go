package main

import (
	"testing"

	"github.com/kycd/kycd/internal/e2e"
)

// TestMain runs the tests as testMain says.
func TestMain(m *testing.M) { e2e.Main(m) }
