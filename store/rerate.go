package store

import "pbxbill/rating"

// rerateChunk bounds the CDRs one re-rate transaction prices, so that CDR
// intake never waits long behind a re-rate.
const rerateChunk = 1000

// Rerate prices the CDRs matching f again with the tables as they are now
// (DOMAIN.md "Re-rating"). An unrated CDR that gets a price posts a charge;
// a rated CDR whose price changed posts a correction for the difference,
// on the tenant's and the provider's side alike; the roll-ups of the CDR's
// own day move with them. A rated CDR that no longer finds a rate keeps
// its price: a deleted rate refunds nothing. It commits in chunks of at
// most 1000 CDRs; a re-rate that stops halfway can simply be run again,
// and running it again changes nothing.
func (s *Store) Rerate(f rating.CDRFilter) (rating.Rerated, error) {
	var total rating.Rerated
	after := uint64(0) // the last sequence done
	for {
		var n int
		err := s.update(func(tx *txn) error {
			n = 0
			var chunk rating.Rerated
			m, err := matcherOf(&f, tx.Tx)
			if err != nil {
				return err
			}
			b := s.newBatch(tx)
			// Only unrated: walk the unrated index, not every CDR.
			walk := b.cdrs.Cursor()
			if m.status == statusUnrated {
				walk = b.unrated.Cursor()
			}
			// The chunk's keys are gathered first: rerate deletes from
			// the unrated index, which must not move under its cursor.
			last := after
			var seqs [][]byte
			for k, _ := walk.Seek(itob(after + 1)); k != nil && len(seqs) < rerateChunk; k, _ = walk.Next() {
				last = btoi(k)
				if v := b.cdrs.Get(k); v != nil && m.match(v) {
					if ok, err := m.matchNumber(v); err != nil {
						return err
					} else if ok {
						seqs = append(seqs, itob(btoi(k)))
					}
				}
			}
			n = len(seqs)
			for _, k := range seqs {
				if err := b.rerate(k, b.cdrs.Get(k), &chunk); err != nil {
					return err
				}
			}
			if err := b.flush(); err != nil {
				return err
			}
			after = last
			total.Rated += chunk.Rated
			total.Corrected += chunk.Corrected
			total.Unchanged += chunk.Unchanged
			return nil
		})
		if err != nil {
			return total, err
		}
		if n < rerateChunk {
			return total, nil
		}
	}
}

// rerate prices one stored CDR again and books the difference, as
// rating.Reprice decides.
func (b *batch) rerate(k, v []byte, out *rating.Rerated) error {
	var rec cdrRecord
	if err := rec.decode(v); err != nil {
		return err
	}
	was := rec.pricing()
	if rec.TenantID == 0 {
		rec.TenantID = b.tenantID(rec.TenantRef)
	}
	if err := b.price(&rec); err != nil {
		return err
	}
	next, outcome, write := rating.Reprice(was, rec.pricing())
	if !write {
		out.Unchanged++
		return nil
	}
	rec.setPricing(next)
	if err := b.apply(was, &rec, false); err != nil {
		return err
	}
	if err := b.cdrs.Put(k, rec.encode(b.arena.take(rec.size()))); err != nil {
		return err
	}
	switch outcome {
	case rating.RerateRated:
		out.Rated++
		return b.unrated.Delete(k)
	case rating.RerateCorrected:
		out.Corrected++
	default:
		out.Unchanged++
	}
	return nil
}
