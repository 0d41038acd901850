package storetest

import (
	"sync"
	"testing"

	"pbxbill/rating"
)

// A credit with a one-time key posts once, however many times it is sent
// at once; a failed one leaves its key unused.
func testCreditOnce(t *testing.T, open Open) {
	b, _ := books(t, open)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.CreditOnce("form-1", rating.TenantAccount, "Acme", mustMoney(t, "5"), rating.Topup, "")
			mu.Lock()
			codes[rating.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 1 || codes[rating.EConflict] != 7 {
		t.Fatalf("outcomes %v: want one post and seven conflicts", codes)
	}
	if tn, _ := balances(t, b); tn != mustMoney(t, "5") {
		t.Fatalf("balance %s, want 5", tn)
	}
	// A refused credit does not use its key.
	_, err := b.CreditOnce("form-2", rating.TenantAccount, "Nobody", mustMoney(t, "5"), rating.Topup, "")
	wantCode(t, err, rating.ENotFound)
	must[rating.Entry](t)(b.CreditOnce("form-2", rating.TenantAccount, "Acme", mustMoney(t, "1"), rating.Topup, ""))
	check(t, b)
}
