package store

import (
	"fmt"
	"pbxbill/rating"
	"sync"
	"testing"
)

// Concurrent single posts share commits; one naming an unknown provider
// fails alone and the others are stored and charged.
func TestGroupCommitIsolatesABadPost(t *testing.T) {
	s := books(t)
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cdr(fmt.Sprint("g", i), "acme", rating.Outbound, "4420", "carrier-a", 60)
			if i == 17 {
				c.Provider = "nobody"
			}
			_, errs[i] = s.PostCDRs("", []rating.CDR{c})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 17) != (err != nil) {
			t.Errorf("post %d: %v", i, err)
		}
	}
	if b := balance(t, s, rating.TenantAccount, "Acme"); b != mustMoney(t, "-2.34") {
		t.Errorf("balance %s, want 39 × 0.06", b)
	}
}
