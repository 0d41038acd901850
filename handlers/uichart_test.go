package handlers

import (
	"testing"

	"pbxbill/rating"
)

// A money chart's points are hundredths whose sum is the exact total
// rounded once, each within a hundredth of its day, at any magnitude.
func TestMoneyPoints(t *testing.T) {
	var days []rating.Money
	for _, s := range []string{"0.004", "0.004", "0.004", "1000000000000000.005", "-0.019", "0"} {
		days = append(days, mustMoney(t, s))
	}
	got := moneyPoints(days, 2)
	var sum int64
	for _, v := range got {
		sum += v
	}
	// 0.012 + 10^15 + 0.005 − 0.019 = 10^15 − 0.002, which rounds to 10^15.00.
	if sum != 100000000000000000 {
		t.Errorf("points %v sum to %d", got, sum)
	}
	if want := []int64{0, 1, 0, 100000000000000001, -2, 0}; len(got) != len(want) {
		t.Fatalf("points %v", got)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("points %v, want %v", got, want)
				break
			}
		}
	}
	u := (&ui{}).moneyUnit(2)
	for v, want := range map[int64]string{0: "0.00", 5: "0.05", -5: "-0.05", 12345: "123.45", 100000000000000000: "1000000000000000.00"} {
		if got := u(v); got != want {
			t.Errorf("moneyUnit(2)(%d) = %q, want %q", v, got, want)
		}
	}
	if got := (&ui{}).moneyUnit(0)(-7); got != "-7" {
		t.Errorf("moneyUnit(0)(-7) = %q", got)
	}
}
