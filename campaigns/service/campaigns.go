package service

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
	"github.com/jacksmood/dispatch/scheduler"
	"github.com/jacksmood/dispatch/worker/compose"
	"github.com/jacksmood/dispatch/worker/sms"
)

// checkSpec refuses a campaign whose template does not render for a sample member on each of its
// channels in every language: a broken template is refused when the campaign is written, never met
// at send time.
func (s *Service) checkSpec(spec *campaigns.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if err := s.composer.Renderer().Check(spec.Template, spec.Channels); err != nil {
		return campaigns.Invalid("template", err.Error())
	}
	return nil
}

// CreateCampaign checks a campaign (fields, templates rendered for sample members) and stores it as
// a draft. Marketers.
func (s *Service) CreateCampaign(ctx context.Context, actor campaigns.User, spec *campaigns.Spec) (campaigns.Campaign, error) {
	if err := allow(actor, "create a campaign", campaigns.RoleMarketer); err != nil {
		return campaigns.Campaign{}, err
	}
	if err := s.checkSpec(spec); err != nil {
		return campaigns.Campaign{}, err
	}
	return s.store.CreateCampaign(ctx, spec, entry(actor, campaigns.AuditCampaignCreate).With("name", spec.Name))
}

// UpdateCampaign replaces a draft campaign's definition, checked as CreateCampaign checks it. A
// campaign that was scheduled is ErrConflict. Marketers.
func (s *Service) UpdateCampaign(ctx context.Context, actor campaigns.User, id int64, spec *campaigns.Spec) (campaigns.Campaign, error) {
	if err := allow(actor, "edit a campaign", campaigns.RoleMarketer); err != nil {
		return campaigns.Campaign{}, err
	}
	if err := s.checkSpec(spec); err != nil {
		return campaigns.Campaign{}, err
	}
	return s.store.UpdateCampaign(ctx, id, spec, entry(actor, campaigns.AuditCampaignUpdate).With("campaign_id", id).With("name", spec.Name))
}

// Campaigns lists every campaign, oldest first. Marketers and ops.
func (s *Service) Campaigns(ctx context.Context, actor campaigns.User) ([]campaigns.Campaign, error) {
	if err := allow(actor, "list campaigns", campaigns.RoleMarketer, campaigns.RoleOps); err != nil {
		return nil, err
	}
	cs, err := s.store.Campaigns(ctx)
	if cs == nil {
		cs = []campaigns.Campaign{}
	}
	return cs, err
}

// Campaign returns one campaign, or ErrNotFound. Marketers and ops.
func (s *Service) Campaign(ctx context.Context, actor campaigns.User, id int64) (campaigns.Campaign, error) {
	if err := allow(actor, "read a campaign", campaigns.RoleMarketer, campaigns.RoleOps); err != nil {
		return campaigns.Campaign{}, err
	}
	return s.store.Campaign(ctx, id)
}

// Stats returns the progress of the campaign's latest run per channel. Marketers and ops.
func (s *Service) Stats(ctx context.Context, actor campaigns.User, id int64) (campaigns.Stats, error) {
	return s.RunStats(ctx, actor, id, 0)
}

// RunStats returns the progress of one run of the campaign per channel (0: its latest). A run that
// is not the campaign's is ErrNotFound. Marketers and ops.
func (s *Service) RunStats(ctx context.Context, actor campaigns.User, id, runID int64) (campaigns.Stats, error) {
	if err := allow(actor, "read a campaign's progress", campaigns.RoleMarketer, campaigns.RoleOps); err != nil {
		return campaigns.Stats{}, err
	}
	return s.store.CampaignStats(ctx, id, runID)
}

// Runs returns the campaign's runs, newest first, with what each sent. Marketers and ops.
func (s *Service) Runs(ctx context.Context, actor campaigns.User, id int64) ([]campaigns.RunSummary, error) {
	if err := allow(actor, "read a campaign's runs", campaigns.RoleMarketer, campaigns.RoleOps); err != nil {
		return nil, err
	}
	if _, err := s.store.Campaign(ctx, id); err != nil {
		return nil, err
	}
	rs, err := s.store.CampaignRuns(ctx, id)
	if rs == nil {
		rs = []campaigns.RunSummary{}
	}
	return rs, err
}

// ScheduleOptions say when a campaign is to run.
type ScheduleOptions struct {
	// At is when: RFC 3339, or a local time in DISPATCH_TIMEZONE; "" for the campaign's own
	// schedule.at, else its first cron tick, else now.
	At string
	// Again must be true to schedule a campaign that has finished: it is then sent to its segment
	// again, and members who got it get it a second time.
	Again bool
}

// Scheduled is the answer to Schedule: the campaign as scheduled, and how many members of the
// register were already sent it (by earlier runs).
type Scheduled struct {
	campaigns.Campaign
	AlreadySent int64 `json:"already_sent"`
	// ScheduledFor is when the campaign was scheduled to run. (Its NextRunAt may already be past
	// that: the scheduler, woken by the change, can start a "now" run before the campaign is read
	// back.)
	ScheduledFor time.Time `json:"scheduled_for"`
}

// Schedule schedules a campaign at the time the options say. A campaign that has finished is sent
// again only with Again: otherwise ErrConflict, saying how many members already got it. A bad time
// is ErrInvalid naming "at"; a campaign whose state does not allow scheduling (running, paused,
// cancelled), ErrConflict. Marketers.
func (s *Service) Schedule(ctx context.Context, actor campaigns.User, id int64, opt ScheduleOptions) (Scheduled, error) {
	if err := allow(actor, "schedule a campaign", campaigns.RoleMarketer); err != nil {
		return Scheduled{}, err
	}
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return Scheduled{}, err
	}
	first, err := scheduler.FirstRun(c.Spec, opt.At, s.cfg.Now(), s.cfg.Timezone)
	if err != nil {
		return Scheduled{}, campaigns.Invalid("at", err.Error())
	}
	reached, err := s.store.MembersReached(ctx, id)
	if err != nil {
		return Scheduled{}, err
	}
	if c.Status == campaigns.StatusFinished && !opt.Again {
		return Scheduled{Campaign: c, AlreadySent: reached}, campaigns.Errorf(campaigns.ErrConflict,
			"campaign %d has finished: %d members got it already; to send it to its segment again, schedule it again explicitly (--again, or \"again\": true)", id, reached)
	}
	a := entry(actor, campaigns.AuditCampaignSchedule).With("campaign_id", id).With("at", first.UTC())
	if c.Status == campaigns.StatusFinished {
		a = a.With("again", true).With("already_sent", reached)
	}
	if err := s.store.ScheduleCampaign(ctx, id, first, a); err != nil {
		return Scheduled{}, err
	}
	c, err = s.store.Campaign(ctx, id)
	return Scheduled{Campaign: c, AlreadySent: reached, ScheduledFor: first}, err
}

// Pause stops a campaign's sending: workers stop within a chunk. Marketers.
func (s *Service) Pause(ctx context.Context, actor campaigns.User, id int64) (campaigns.Campaign, error) {
	return s.transition(ctx, actor, id, "pause a campaign", campaigns.AuditCampaignPause, s.store.PauseCampaign)
}

// Resume continues a paused campaign. Marketers.
func (s *Service) Resume(ctx context.Context, actor campaigns.User, id int64) (campaigns.Campaign, error) {
	return s.transition(ctx, actor, id, "resume a campaign", campaigns.AuditCampaignResume, s.store.ResumeCampaign)
}

// Cancel stops a campaign for good: what was not sent is marked cancelled. Marketers.
func (s *Service) Cancel(ctx context.Context, actor campaigns.User, id int64) (campaigns.Campaign, error) {
	return s.transition(ctx, actor, id, "cancel a campaign", campaigns.AuditCampaignCancel, s.store.CancelCampaign)
}

func (s *Service) transition(ctx context.Context, actor campaigns.User, id int64, what string, action campaigns.AuditAction,
	change func(ctx context.Context, id int64, a campaigns.Audit) error) (campaigns.Campaign, error) {
	if err := allow(actor, what, campaigns.RoleMarketer); err != nil {
		return campaigns.Campaign{}, err
	}
	if err := change(ctx, id, entry(actor, action).With("campaign_id", id)); err != nil {
		return campaigns.Campaign{}, err
	}
	return s.store.Campaign(ctx, id)
}

// PreviewCode stands in for a coupon code in previews and test sends: it is not a real code.
const PreviewCode = "TEST-CODE-XXXX"

// previewCoupon is the stand-in coupon of previews and test sends: a placeholder code, never issued.
func (s *Service) previewCoupon(spec campaigns.Spec) *campaigns.IssuedCoupon {
	if spec.Coupon == nil {
		return nil
	}
	return &campaigns.IssuedCoupon{Code: PreviewCode, ValidUntil: campaigns.CouponValidUntil(s.cfg.Now(), spec.Coupon.ValidDays, s.cfg.Timezone)}
}

// Preview is what a member would get from a campaign on a channel, and whether they would get it.
type Preview struct {
	Channel  campaigns.Channel  `json:"channel"`
	Language campaigns.Language `json:"language"`
	// To is the member's address or number: shown to privacy officers and admins only.
	To string `json:"to,omitempty"`
	// WouldSend says whether the member may be reached on the channel now; Reason says why not
	// (no_consent, no_address, objected, suppressed, ...). Frequency caps are counted when a run is
	// selected, not here.
	WouldSend bool                 `json:"would_send"`
	Reason    campaigns.SkipReason `json:"reason,omitempty"`
	Subject   string               `json:"subject,omitempty"`
	Text      string               `json:"text"`
	HTML      string               `json:"html,omitempty"`
	Title     string               `json:"title,omitempty"`
	Headers   map[string]string    `json:"headers,omitempty"`
	MessageID string               `json:"message_id,omitempty"`
	// SMS is the encoding and length of an SMS.
	SMS *SMSLength `json:"sms,omitempty"`
}

// SMSLength is how an SMS's text is sent: GSM-7 when every character fits, else UCS-2, and in how
// many segments (160/153 or 70/67 characters).
type SMSLength struct {
	Encoding   string `json:"encoding"`
	Characters int    `json:"characters"`
	Segments   int    `json:"segments"`
}

// Preview returns the message the member (by external id) would get from the campaign on the
// channel, rendered in the member's language with a placeholder coupon code, and whether the member
// may be reached there now (and if not, why). The member's address or number is shown to privacy
// officers and admins only; the preview shows the member's data all the same, so it is audited for
// the member. Marketers and privacy officers.
func (s *Service) Preview(ctx context.Context, actor campaigns.User, id int64, externalID string, ch campaigns.Channel) (Preview, error) {
	if err := allow(actor, "preview a campaign", campaigns.RoleMarketer, campaigns.RolePrivacy); err != nil {
		return Preview{}, err
	}
	if err := checkText("member", externalID); err != nil {
		return Preview{}, err
	}
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	m, err := s.store.MemberByExternalID(ctx, externalID)
	if err != nil {
		return Preview{}, err
	}
	msg, err := s.composer.Compose(campaigns.Run{CampaignID: c.ID, Spec: c.Spec}, campaigns.Delivery{Channel: ch, Member: m}, s.previewCoupon(c.Spec), false)
	if err != nil {
		return Preview{}, fmt.Errorf("preview campaign %d: %w", id, err)
	}
	reason, err := s.store.MemberReach(ctx, m.ID, ch)
	if err != nil {
		return Preview{}, err
	}
	p := preview(msg, m.Language)
	p.WouldSend, p.Reason = reason == "", reason
	if actor.Role == campaigns.RolePrivacy || actor.Role == campaigns.RoleAdmin {
		p.To = msg.To
	}
	a := entry(actor, campaigns.AuditCampaignPreview).With("campaign_id", id).With("channel", ch).With("contact_shown", p.To != "")
	a.MemberID = m.ID
	if err := s.store.Audit(ctx, a); err != nil {
		return Preview{}, err
	}
	return p, nil
}

// preview describes a composed message, without its recipient.
func preview(msg compose.Message, lang campaigns.Language) Preview {
	p := Preview{Channel: msg.Channel, Language: lang, Subject: msg.Content.Subject, Text: msg.Content.Text,
		HTML: msg.Content.HTML, Title: msg.Content.Title, Headers: msg.Headers, MessageID: msg.MessageID, WouldSend: true}
	if msg.Channel == campaigns.SMS {
		enc, segments := sms.Encode(msg.Content.Text)
		p.SMS = &SMSLength{Encoding: string(enc), Characters: utf8.RuneCountInString(msg.Content.Text), Segments: segments}
	}
	return p
}

// TestSend sends the campaign's message on the channel to one address (an email address, or for
// SMS a mobile number), rendered for a sample member in the language given and marked as a test; no
// delivery is recorded. It returns the message sent. A channel without a test sender (post), or an
// address that is not one, is ErrInvalid. Marketers.
func (s *Service) TestSend(ctx context.Context, actor campaigns.User, id int64, ch campaigns.Channel, to string, lang campaigns.Language) (compose.Message, error) {
	if err := allow(actor, "send a test message", campaigns.RoleMarketer); err != nil {
		return compose.Message{}, err
	}
	sender, ok := s.cfg.TestSenders[ch]
	if !ok {
		return compose.Message{}, campaigns.Invalid("channel", fmt.Sprintf("test sends go by email or SMS, not %s", ch))
	}
	var email, number string
	switch ch {
	case campaigns.SMS:
		n, kind, err := phone.Normalize(to)
		if err != nil {
			return compose.Message{}, campaigns.Invalid("to", err.Error())
		}
		if !kind.SMS() {
			return compose.Message{}, campaigns.Invalid("to", "the number cannot take an SMS (a landline or service number)")
		}
		number = n
	default:
		addr, err := campaigns.NormalizeEmail(to)
		if err != nil {
			return compose.Message{}, campaigns.Invalid("to", err.Error())
		}
		email = addr
	}
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return compose.Message{}, err
	}
	member := sampleMember(c.Spec.Kind, lang, email, number)
	msg, err := s.composer.Compose(campaigns.Run{CampaignID: c.ID, Spec: c.Spec}, campaigns.Delivery{Channel: ch, Member: member}, s.previewCoupon(c.Spec), true)
	if err != nil {
		return msg, fmt.Errorf("test send of campaign %d: %w", id, err)
	}
	msg.MessageID = s.composer.TestMessageID(c.ID, s.cfg.Now().UnixNano())
	if _, err := sender.Send(ctx, msg); err != nil {
		return msg, fmt.Errorf("test send of campaign %d: %w", id, err)
	}
	a := entry(actor, campaigns.AuditCampaignTestSend).With("campaign_id", id).With("channel", ch).With("message_id", msg.MessageID)
	return msg, s.store.Audit(ctx, a)
}
