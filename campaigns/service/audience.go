package service

import (
	"context"

	"github.com/jacksmood/dispatch/campaigns"
)

// AudienceStore is what the segment's size and the campaign list's progress need of the store.
type AudienceStore interface {
	// Audience counts who the campaign would reach if it were selected now, by the scheduler's
	// own selection, recording nothing. An unknown campaign is ErrNotFound.
	Audience(ctx context.Context, id int64) (campaigns.Audience, error)
	// LatestStats returns the progress of every campaign's latest run, by campaign id: for each,
	// what CampaignStats returns for its latest run.
	LatestStats(ctx context.Context) (map[int64]campaigns.Stats, error)
}

// Audience returns who the campaign would reach if it were selected now (campaigns.Audience): the
// register's members, those of its segment and, per channel, those who would get a message and
// those who would be left out by reason, counted by the scheduler's own selection (segment,
// consents and the other rules of the register, frequency cap, strategy). Counting reads the whole
// register (about a second for a million members), so it is asked for, not polled. Nothing is
// audited: it shows counts only. An unknown campaign is ErrNotFound. Marketers.
func (s *Service) Audience(ctx context.Context, actor campaigns.User, id int64) (campaigns.Audience, error) {
	if err := allow(actor, "count a campaign's audience", campaigns.RoleMarketer); err != nil {
		return campaigns.Audience{}, err
	}
	return s.store.Audience(ctx, id)
}

// Progress returns the progress of every campaign's latest run per channel, by campaign id, as
// Stats does for one campaign, in one read whatever the runs' sizes: for the campaign list, which
// polls it. A campaign that has not run has its status and its channels at zero. Marketers and ops.
func (s *Service) Progress(ctx context.Context, actor campaigns.User) (map[int64]campaigns.Stats, error) {
	if err := allow(actor, "read the campaigns' progress", campaigns.RoleMarketer, campaigns.RoleOps); err != nil {
		return nil, err
	}
	return s.store.LatestStats(ctx)
}
