package main

import (
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
)

// holdSweep is how often expired holds are taken off the list of open
// ones: DOMAIN.md wants them gone within 10 seconds. An expired hold sets
// nothing aside from the instant it expires, sweep or not.
const holdSweep = 5 * time.Second

// sweepHolds expires holds every interval until the returned stop is
// called; stop waits for a sweep under way.
func sweepHolds(st interface{ ExpireHolds() ([]rating.Hold, error) }, interval time.Duration, log zerolog.Logger) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				gone, err := st.ExpireHolds()
				if err != nil {
					log.Error().Err(err).Msg("expire holds: will try again")
				}
				for _, h := range gone {
					log.Warn().Str("tenant", h.Tenant).Str("node", h.Node).Str("call", h.Call).Str("held", h.Amount.String()).
						Msg("a call's hold expired without its CDR: check that the PBX posts CDRs with the call id and node token it authorized with")
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}
