package pg

// Stubs of the holds part, to be replaced by its implementation.

import (
	"context"
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

var _ = time.Now
var _ store.FollowPos

func (s *Store) Authorize(q rating.CallQuery) (rating.CallAnswer, error) {
	panic("pg: Authorize is not built yet")
}

func (s *Store) Commitments(name string) (rating.Commitments, error) {
	panic("pg: Commitments is not built yet")
}

func (s *Store) AllCommitments() (map[string]rating.Commitments, error) {
	panic("pg: AllCommitments is not built yet")
}

func (s *Store) Holds(tenant string) ([]rating.Hold, error) {
	panic("pg: Holds is not built yet")
}

func (s *Store) ExpiredHolds(tenant string, limit int) ([]rating.Hold, error) {
	panic("pg: ExpiredHolds is not built yet")
}

func (s *Store) ReleaseHold(node, call string) error {
	panic("pg: ReleaseHold is not built yet")
}

func (s *Store) HoldStats() rating.HoldStats {
	panic("pg: HoldStats is not built yet")
}

func (s *Store) ExpireHolds() ([]rating.Hold, error) {
	panic("pg: ExpireHolds is not built yet")
}

func (s *Store) Schedules(tenant string) ([]rating.Schedule, error) {
	panic("pg: Schedules is not built yet")
}

func (s *Store) CreateSchedule(tenant string, sc rating.Schedule) (rating.Schedule, error) {
	panic("pg: CreateSchedule is not built yet")
}

func (s *Store) CreateScheduleOnce(key, tenant string, sc rating.Schedule) (rating.Schedule, error) {
	panic("pg: CreateScheduleOnce is not built yet")
}

func (s *Store) UpdateSchedule(tenant string, id uint64, fn func(*rating.Schedule) error) (rating.Schedule, error) {
	panic("pg: UpdateSchedule is not built yet")
}

func (s *Store) DeleteSchedule(tenant string, id uint64) error {
	panic("pg: DeleteSchedule is not built yet")
}

func (s *Store) PostDueSchedules() (int, error) {
	panic("pg: PostDueSchedules is not built yet")
}

func (s *Store) QueueEvent(typ string, data any) (rating.Event, error) {
	panic("pg: QueueEvent is not built yet")
}

func (s *Store) Events(after string, limit int) ([]rating.Event, string, error) {
	panic("pg: Events is not built yet")
}

func (s *Store) RecentEvents(n int) ([]rating.Event, error) {
	panic("pg: RecentEvents is not built yet")
}

func (s *Store) PendingEvents(after uint64, limit int) ([]rating.Event, error) {
	panic("pg: PendingEvents is not built yet")
}

func (s *Store) SaveDelivery(seq uint64, deliveries []rating.Delivery, done bool) error {
	panic("pg: SaveDelivery is not built yet")
}

func (s *Store) Statement(tenant string, m rating.Month) (rating.Statement, error) {
	panic("pg: Statement is not built yet")
}

// holdState is the hold part's shared state (holds.go).
type holdState struct{}

// releaseByCDR releases, in the transaction that bills them, the holds of
// the calls whose CDRs tx stores: ids are the CDR ids posted by node.
func (s *Store) releaseByCDR(ctx context.Context, tx *txn, node string, ids []string) error {
	return nil
}
