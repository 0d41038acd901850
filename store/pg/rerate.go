package pg

import (
	"context"

	"pbxbill/rating"
)

// rerateChunk bounds the CDRs one re-rate transaction prices, so that CDR
// intake never waits long behind a re-rate.
const rerateChunk = 1000

// Rerate prices the CDRs matching f again with the tables as they are now
// (DOMAIN.md "Re-rating"). An unrated CDR that gets a price posts a charge;
// a rated CDR whose price changed posts a correction for the difference,
// on the tenant's and the provider's side alike; the roll-ups of the CDR's
// own day move with them. A rated CDR that no longer finds a rate keeps
// its price: a deleted rate refunds nothing. It commits in chunks of at
// most 1000 CDRs, in the order they were stored; a re-rate that stops
// halfway can simply be run again, and running it again changes nothing.
//
// Each chunk locks its accounts, then its CDRs, and prices the CDRs as
// they are once locked: two nodes re-rating at once correct each CDR
// once.
func (s *Store) Rerate(f rating.CDRFilter) (rating.Rerated, error) {
	ctx := context.Background()
	var total rating.Rerated
	after := int64(0) // the last sequence done
	for {
		var n int
		var chunk rating.Rerated
		var last int64
		err := s.write(ctx, func(tx *txn) error {
			n, chunk, last = 0, rating.Rerated{}, after
			m, err := cdrMatchOf(ctx, tx, &f)
			if err != nil {
				return err
			}
			args := []any{after, rerateChunk}
			rows, err := tx.Query(ctx, `SELECT c.seq, coalesce(c.tenant_id, 0), c.tenant_ref, coalesce(c.provider_id, 0)
				FROM cdrs c WHERE c.seq > $1 AND `+m.where(&args)+` ORDER BY c.seq LIMIT $2`, args...)
			if err != nil {
				return err
			}
			var seqs, tenantIDs, providerIDs []int64
			var tenantRefs []string
			for rows.Next() {
				var seq, tid, pid int64
				var ref string
				if err := rows.Scan(&seq, &tid, &ref, &pid); err != nil {
					rows.Close()
					return err
				}
				seqs = append(seqs, seq)
				if tid != 0 {
					tenantIDs = append(tenantIDs, tid)
				} else if ref != "" {
					tenantRefs = append(tenantRefs, ref)
				}
				if pid != 0 {
					providerIDs = append(providerIDs, pid)
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(seqs) == 0 {
				return nil
			}
			n, last = len(seqs), seqs[len(seqs)-1]
			b := s.newBatch(tx)
			if err := b.lock(ctx, tenantRefs, tenantIDs, nil, providerIDs); err != nil {
				return err
			}
			recs, err := b.lockCDRs(ctx, seqs)
			if err != nil {
				return err
			}
			var changed []*cdrRow
			for i := range recs {
				ok, err := b.rerate(&recs[i], &chunk)
				if err != nil {
					return err
				}
				if ok {
					changed = append(changed, &recs[i])
				}
			}
			b.queueRepriced(changed)
			return b.flush(ctx)
		})
		if err != nil {
			return total, err
		}
		total.Rated += chunk.Rated
		total.Corrected += chunk.Corrected
		total.Unchanged += chunk.Unchanged
		after = last
		if n < rerateChunk {
			return total, nil
		}
	}
}

// lockCDRs reads and locks the CDRs of seqs, once their accounts are
// locked, and locks any account they name that the batch has not: a
// tenant another node resolved meanwhile.
func (b *cdrBatch) lockCDRs(ctx context.Context, seqs []int64) ([]cdrRow, error) {
	rows, err := b.tx.Query(ctx, `SELECT `+cdrCols+` FROM cdrs c WHERE c.seq = ANY($1) ORDER BY c.seq FOR UPDATE`, seqs)
	if err != nil {
		return nil, err
	}
	var recs []cdrRow
	var missingT, missingP []int64
	for rows.Next() {
		var r cdrRow
		if err := scanCDR(rows, &r, nil); err != nil {
			rows.Close()
			return nil, err
		}
		if r.TenantID != 0 && b.tenants[r.TenantID] == nil {
			missingT = append(missingT, r.TenantID)
		}
		if r.ProviderID != 0 && b.providers[r.ProviderID] == nil {
			missingP = append(missingP, r.ProviderID)
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(missingT)+len(missingP) > 0 {
		if err := b.lock(ctx, nil, missingT, nil, missingP); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// rerate prices one stored CDR again and books the difference, as
// rating.Reprice decides; it reports whether the CDR is to be written.
func (b *cdrBatch) rerate(r *cdrRow, out *rating.Rerated) (bool, error) {
	was := r.Pricing
	if r.TenantID == 0 {
		r.TenantID = b.tenantRefs[r.TenantRef]
	}
	b.price(r)
	next, outcome, write := rating.Reprice(was, r.Pricing)
	if !write {
		out.Unchanged++
		return false, nil
	}
	r.Pricing = next
	if err := b.apply(was, r, false); err != nil {
		return false, err
	}
	switch outcome {
	case rating.RerateRated:
		out.Rated++
	case rating.RerateCorrected:
		out.Corrected++
	default:
		out.Unchanged++
	}
	return true, nil
}

// queueRepriced queues the update of the re-priced CDRs for flush.
func (b *cdrBatch) queueRepriced(recs []*cdrRow) {
	n := len(recs)
	if n == 0 {
		return
	}
	seqs, tenants := make([]int64, n), make([]*int64, n)
	rated := make([]bool, n)
	reasons, prefixes, tables := make([]string, n), make([]string, n), make([]string, n)
	billed := make([]int32, n)
	costs, providerCosts := make([]moneyArg, n), make([]moneyArg, n)
	for i, r := range recs {
		seqs[i], tenants[i], rated[i] = r.Seq, optionalID(r.TenantID), r.Rated
		reasons[i], prefixes[i], tables[i], billed[i] = r.Reason, r.Prefix, r.Table, int32(r.Billed)
		costs[i], providerCosts[i] = money(r.Cost), money(r.ProviderCost)
	}
	b.extra.Queue(`UPDATE cdrs AS c SET tenant_id = u.tenant_id, rated = u.rated, reason = u.reason, billed = u.billed,
			cost = u.cost, provider_cost = u.provider_cost, prefix = u.prefix, rate_table = u.rate_table
		FROM unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::text[], $5::integer[], $6::numeric[], $7::numeric[], $8::text[], $9::text[])
			AS u(seq, tenant_id, rated, reason, billed, cost, provider_cost, prefix, rate_table)
		WHERE c.seq = u.seq`, seqs, tenants, rated, reasons, billed, costs, providerCosts, prefixes, tables)
}
