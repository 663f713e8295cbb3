package coreapi

import (
	"testing"

	"github.com/kycd/kycd/internal/e2e"
)

func TestMain(m *testing.M) { e2e.Main(m) }
