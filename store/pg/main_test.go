package pg_test

import (
	"os"
	"testing"

	"pbxbill/store/pg/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
