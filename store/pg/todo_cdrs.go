package pg

// Stubs of the cdrs part, to be replaced by its implementation.

import (
	"time"

	"pbxbill/rating"
	"pbxbill/store"
)

var _ = time.Now
var _ store.FollowPos

func (s *Store) PostCDRs(node string, cdrs []rating.CDR) (rating.Posted, error) {
	panic("pg: PostCDRs is not built yet")
}

func (s *Store) CDRs(f rating.CDRFilter, after string, limit int) ([]rating.CDR, string, error) {
	panic("pg: CDRs is not built yet")
}

func (s *Store) CDRPage(f rating.CDRFilter, after, before string, limit int) (rating.CDRPage, error) {
	panic("pg: CDRPage is not built yet")
}

func (s *Store) EachCDR(f rating.CDRFilter, fn func(*rating.CDR) error) error {
	panic("pg: EachCDR is not built yet")
}

func (s *Store) CDRTotals(f rating.CDRFilter) (rating.CDRTotals, error) {
	panic("pg: CDRTotals is not built yet")
}

func (s *Store) CDR(node, id string) (rating.CDR, error) {
	panic("pg: CDR is not built yet")
}

func (s *Store) FollowPos(path string) (store.FollowPos, error) {
	panic("pg: FollowPos is not built yet")
}

func (s *Store) PostFollowed(node string, cdrs []rating.CDR, pos store.FollowPos) (rating.Posted, error) {
	panic("pg: PostFollowed is not built yet")
}

func (s *Store) ProviderByTrunk() (func(trunk string) (string, bool), error) {
	panic("pg: ProviderByTrunk is not built yet")
}

func (s *Store) RejectFollowed(line rating.RejectedLine, pos store.FollowPos) error {
	panic("pg: RejectFollowed is not built yet")
}

func (s *Store) RejectedLines(limit int) ([]rating.RejectedLine, error) {
	panic("pg: RejectedLines is not built yet")
}

func (s *Store) Rerate(f rating.CDRFilter) (rating.Rerated, error) {
	panic("pg: Rerate is not built yet")
}

func (s *Store) TenantDashboard() ([]rating.TenantFigures, error) {
	panic("pg: TenantDashboard is not built yet")
}

func (s *Store) ProviderDashboard(from, to time.Time) ([]rating.ProviderFigures, rating.ProviderFigures, error) {
	panic("pg: ProviderDashboard is not built yet")
}

func (s *Store) DailyUsage(accountType, name string, from, to time.Time) ([]rating.DayUsage, error) {
	panic("pg: DailyUsage is not built yet")
}

func (s *Store) Check() error {
	panic("pg: Check is not built yet")
}
