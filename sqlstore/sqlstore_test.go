package sqlstore_test

import (
	"testing"

	"github.com/kycd/kycd/sqlstore/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t) }
