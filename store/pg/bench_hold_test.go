package pg_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pbxbill/store"
	"pbxbill/store/pg"
	"pbxbill/store/pg/pgtest"
)

// The authorization benchmarks call the store as the handler does, from
// 64 goroutines (a PBX's channels asking at once), on one node with
// fsync on. Run them alone, so that the server starts durable:
//
//	go test ./store/pg -run '^$' -bench '^BenchmarkAuthorize(Hold)?$' -benchtime 20000x
//
// On the 2 shared cores of the development machine (load about 3): 4,300
// a second with a hold over 1000 tenants, 4,400 on one hot tenant, 28,500
// without a hold.

// hBenchStore opens a durable store with tenants t0… (accountcode c0…),
// each with credit for every call of the benchmark.
func hBenchStore(b *testing.B, tenants int) *pg.Store {
	b.Helper()
	pgtest.Durable = true // production's commits: set before the server starts
	url := pgtest.URL(b)
	s, err := pg.Open(url, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	hSQL(b, url, `INSERT INTO tenants (name, accountcode, billing_mode, balance, credit_limit, status, max_call_duration, created)
		SELECT 't' || i, 'c' || i, 'postpaid', 0, 1000000000, 'active', 600, now() FROM generate_series(0, $1 - 1) i`, tenants)
	hSQL(b, url, `VACUUM ANALYZE tenants`)
	return s
}

// hRun runs b.N calls of fn(i) on 64 goroutines and reports the rate.
func hRun(b *testing.B, fn func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "auth/s")
}

// BenchmarkAuthorizeHold authorizes calls that each open a hold: spread
// over 1000 tenants, and all on one hot tenant, whose row lock every
// authorization takes in turn.
func BenchmarkAuthorizeHold(b *testing.B) {
	for _, bc := range []struct {
		name    string
		tenants int
	}{{"many-tenants", 1000}, {"hot-tenant", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			s := hBenchStore(b, bc.tenants)
			r := hRate(b, "0.06")
			run := fmt.Sprint(time.Now().UnixNano()) // call ids unique across b.N's rounds
			hRun(b, func(i int) error {
				a, err := hAsk(s, fmt.Sprint("c", i%bc.tenants), "pbx1", fmt.Sprint(run, "-", i), 600, r)
				if err == nil && a.Hold == nil {
					err = fmt.Errorf("call %d: no hold: %+v", i, a.Authorization)
				}
				return err
			})
		})
	}
}

// BenchmarkAuthorize authorizes calls without a call id: no hold, no
// lock, one statement.
func BenchmarkAuthorize(b *testing.B) {
	s := hBenchStore(b, 1000)
	r := hRate(b, "0.06")
	hRun(b, func(i int) error {
		a, err := hAsk(s, fmt.Sprint("c", i%1000), "pbx1", "", 600, r)
		if err == nil && !a.Allowed {
			err = fmt.Errorf("call %d: %+v", i, a.Authorization)
		}
		return err
	})
}
