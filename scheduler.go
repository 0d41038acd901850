package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// schedulerEvery is how often the scheduler looks for due occurrences:
// DOMAIN.md asks for a posting within a minute of its instant.
const schedulerEvery = 20 * time.Second

// scheduled is what the scheduler needs of the store.
type scheduled interface {
	PostDueSchedules() (int, error)
}

// runScheduler posts what is due at once, then every interval until ctx
// is done. What keeps an occurrence from being posted twice is the store's
// (schedule, month) key, written with its entry; the scheduler only
// decides when to look, so a restart, a crash or a clock stepping back
// costs at most a look for nothing.
func runScheduler(ctx context.Context, st scheduled, every time.Duration, log zerolog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := st.PostDueSchedules()
		if err != nil {
			log.Error().Err(err).Int("posted", n).Msg("schedules: posting failed; retrying at the next look")
		} else if n > 0 {
			log.Info().Int("posted", n).Msg("schedules: posted the occurrences due")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startBackground starts the scheduler and the alert deliverer; the
// returned stop cancels both and waits for them, so that neither is in a
// transaction when the database closes.
func startBackground(ctx context.Context, sched scheduled, d *deliverer, every time.Duration, log zerolog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { runScheduler(ctx, sched, every, log); done <- struct{}{} }()
	go func() { d.run(ctx); done <- struct{}{} }()
	return func() {
		cancel()
		<-done
		<-done
	}
}
