package rating_test

import (
	"fmt"
	"time"

	"pbxbill/rating"
)

// Price a 95-second call to a UK mobile number.
func ExampleIndex_Lookup() {
	t := rating.NewTable("Docs Demo Outbound", rating.Outbound, "EUR")
	uk := rating.NewRow("44", must(rating.ParseAmount("0.0200")))
	mobile := rating.NewRow("447", must(rating.ParseAmount("0.0850")))
	mobile.InitialIncrement, mobile.Increment = 30, 6
	x := rating.NewIndex(t, []rating.Row{uk, mobile})

	number, _ := rating.Numbering{}.Normalise("+44 7911 123456")
	r, _ := x.Lookup(number, time.Now())
	q := r.Price(95)
	fmt.Println(r.Prefix, q.Billed, q.Cost.Fixed(r.Decimals))
	// Output: 447 96 0.1360
}

// How long may a tenant with 1.00 of credit talk at that rate?
func ExampleRate_MaxDuration() {
	r := rating.Rate{Rate: must(rating.ParseAmount("0.0850")), InitialRate: must(rating.ParseAmount("0.0850")),
		MinCost: rating.NoAmount, MaxCost: rating.NoAmount, InitialIncrement: 30, Increment: 6, Decimals: 4}
	secs, ok := r.MaxDuration(must(rating.ParseMoney("1.00")), rating.DefaultMaxCallDuration)
	fmt.Println(secs, ok)
	// Output: 702 true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
