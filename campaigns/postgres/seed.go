package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/jacksmood/dispatch/campaigns"
)

// SeedMembers writes the first n members of src with their consents (source signup-form) and
// purchases, in one transaction, streaming each table with COPY: src is read once per table, which
// is cheaper than holding a million members in memory. It refuses (ErrConflict) when the register
// already holds src's first external id. The audit entry a is written in the same transaction.
func (s *Store) SeedMembers(ctx context.Context, n int, src campaigns.MemberSource, a campaigns.Audit) (campaigns.SeedResult, error) {
	var res campaigns.SeedResult
	if n <= 0 {
		return res, campaigns.Invalid("members", "want a positive number")
	}
	actor := a.Actor
	var p campaigns.NewMember
	src()(&p)
	first := p.ExternalID
	key, err := s.registerKey(ctx)
	if err != nil {
		return res, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("seed-lock")); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("seed-create-staging")); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if _, err := s.memberID(ctx, tx, first); err == nil {
			return campaigns.Errorf(campaigns.ErrConflict, "the register already holds seeded member %s: seed into an empty register", first)
		}
		var last int64
		if err := tx.GetContext(ctx, &last, s.q("seed-reserve-ids"), n); err != nil {
			return fmt.Errorf("seed: reserve ids: %w", err)
		}
		base := last - int64(n) + 1
		// rows streams every generated person to one COPY statement through emit.
		rows := func(query string, emit func(stmt *sql.Stmt, id int64, p *campaigns.NewMember) (int, error)) (int, error) {
			stmt, err := tx.PrepareContext(ctx, s.q(query))
			if err != nil {
				return 0, err
			}
			defer stmt.Close()
			next := src()
			count := 0
			for i := 0; i < n; i++ {
				next(&p)
				k, err := emit(stmt, base+int64(i), &p)
				if err != nil {
					return count, fmt.Errorf("seed: %s: %w", query, err)
				}
				count += k
			}
			if _, err := stmt.ExecContext(ctx); err != nil {
				return count, fmt.Errorf("seed: %s: %w", query, err)
			}
			return count, nil
		}
		mobile := true
		res.Members, err = rows("seed-copy-members", func(stmt *sql.Stmt, id int64, p *campaigns.NewMember) (int, error) {
			// The generator writes only mobile numbers (demodata's tests check it with
			// campaigns/phone), so a phone can take an SMS; NULL when there is none.
			var phoneSMS *bool
			if p.Phone != "" {
				phoneSMS = &mobile
			}
			_, err := stmt.ExecContext(ctx, id, p.ExternalID, p.FirstName, p.LastName, nullable(p.Email), nullable(p.Phone),
				phoneSMS, p.Street, p.PostalCode, p.City, p.Country, p.Language, p.AddressProtected, p.Deceased)
			return 1, err
		})
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q("seed-insert-members"), key.ipad, key.opad); err != nil {
			return fmt.Errorf("seed: members: %w", err)
		}
		res.Consents, err = rows("seed-copy-consents", func(stmt *sql.Stmt, id int64, p *campaigns.NewMember) (int, error) {
			k := 0
			for _, c := range []struct {
				ch campaigns.Channel
				v  *bool
			}{{campaigns.Email, p.EmailConsent}, {campaigns.SMS, p.SMSConsent}} {
				if c.v == nil {
					continue
				}
				st := campaigns.Withdrawn
				if *c.v {
					st = campaigns.Granted
				}
				if _, err := stmt.ExecContext(ctx, id, c.ch, st, campaigns.SourceSignupForm, actor); err != nil {
					return k, err
				}
				k++
			}
			if p.PostalObjection {
				if _, err := stmt.ExecContext(ctx, id, campaigns.Postal, campaigns.Withdrawn, campaigns.SourceSignupForm, actor); err != nil {
					return k, err
				}
				k++
			}
			return k, nil
		})
		if err != nil {
			return err
		}
		res.Purchases, err = rows("seed-copy-purchases", func(stmt *sql.Stmt, id int64, p *campaigns.NewMember) (int, error) {
			for _, b := range p.Purchases {
				if _, err := stmt.ExecContext(ctx, id, b.PurchasedAt, b.AmountCents, b.Store, b.OrderRef); err != nil {
					return 0, err
				}
			}
			return len(p.Purchases), nil
		})
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a.With("members", n))
	})
	return res, err
}
