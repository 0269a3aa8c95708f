package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/campaignfile"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/postgres"
)

// RegisterStore is what the marketers' and privacy officers' API needs of the store.
type RegisterStore interface {
	Store
	CreateCampaign(ctx context.Context, spec *campaigns.Spec, actor string) (campaigns.Campaign, error)
	Campaign(ctx context.Context, id int64) (campaigns.Campaign, error)
	Campaigns(ctx context.Context) ([]campaigns.Campaign, error)
	ScheduleCampaign(ctx context.Context, id int64, at time.Time, actor string) error
	PauseCampaign(ctx context.Context, id int64, actor string) error
	ResumeCampaign(ctx context.Context, id int64, actor string) error
	CancelCampaign(ctx context.Context, id int64, actor string) error
	CampaignStats(ctx context.Context, id int64) (campaigns.Stats, error)
	MemberByExternalID(ctx context.Context, externalID string) (campaigns.Member, error)
	ImportMembers(ctx context.Context, read postgres.MemberReader, source campaigns.ConsentSource, file, actor string) (postgres.ImportResult, error)
	ExportMember(ctx context.Context, externalID, actor string) (*postgres.MemberExport, error)
	EraseMember(ctx context.Context, externalID, actor string) (int64, error)
	RecordConsent(ctx context.Context, externalID string, c postgres.ConsentChange, actor string) (campaigns.ConsentEvent, error)
	Coupon(ctx context.Context, code string) (campaigns.Coupon, error)
	RedeemCoupon(ctx context.Context, code, store, orderRef, actor string, loc *time.Location) (campaigns.Coupon, error)
	Audit(ctx context.Context, actor, action string, memberID int64, details any) error
}

// Marketing configures the JSON API under /api/.
type Marketing struct {
	Store RegisterStore
	// CheckTemplates renders the campaign's template for sample members; a broken one is refused.
	CheckTemplates func(spec *campaigns.Spec) error
	// FirstRun says when a campaign being scheduled runs first (scheduler.FirstRun in the zone).
	FirstRun func(spec campaigns.Spec, at string) (time.Time, error)
	// Preview renders a campaign's message for a member on a channel.
	Preview func(c campaigns.Campaign, m campaigns.Member, ch campaigns.Channel) (any, error)
	// Location is the time zone of messages about times (DISPATCH_TIMEZONE).
	Location *time.Location
}

// maxBody bounds request bodies: a campaign or a consent is small; a member import is a file.
const (
	maxJSONBody   = 1 << 20
	maxImportBody = 512 << 20
)

func (s *Server) marketingRoutes(m *Marketing) {
	mk := func(h func(http.ResponseWriter, *http.Request, campaigns.User) error, roles ...campaigns.Role) http.Handler {
		return s.requireRoles(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, _ := UserFrom(r.Context())
			if err := h(w, r, user); err != nil {
				s.writeError(w, r, err)
			}
		}), roles...)
	}
	marketer, privacy := campaigns.RoleMarketer, campaigns.RolePrivacy
	s.mux.Handle("POST /api/campaigns", mk(m.createCampaign, marketer))
	s.mux.Handle("GET /api/campaigns", mk(m.listCampaigns, marketer, campaigns.RoleOps))
	s.mux.Handle("GET /api/campaigns/{id}", mk(m.getCampaign, marketer, campaigns.RoleOps))
	s.mux.Handle("GET /api/campaigns/{id}/stats", mk(m.campaignStats, marketer, campaigns.RoleOps))
	s.mux.Handle("POST /api/campaigns/{id}/preview", mk(m.preview, marketer))
	s.mux.Handle("POST /api/campaigns/{id}/{action}", mk(m.campaignAction, marketer))
	s.mux.Handle("POST /api/members/import", mk(m.importMembers, privacy))
	s.mux.Handle("GET /api/members/{id}/export", mk(m.exportMember, privacy))
	s.mux.Handle("DELETE /api/members/{id}", mk(m.eraseMember, privacy))
	s.mux.Handle("PUT /api/members/{id}/consents/{channel}", mk(m.setConsent, privacy))
	s.mux.Handle("GET /api/coupons/{code}", mk(m.getCoupon, marketer))
	s.mux.Handle("POST /api/coupons/{code}/redeem", mk(m.redeemCoupon, marketer))
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, campaigns.Errorf(campaigns.ErrNotFound, "no campaign %q", r.PathValue("id"))
	}
	return id, nil
}

// decodeJSON reads a small JSON body strictly: unknown fields are refused.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return campaigns.Errorf(campaigns.ErrInvalid, "request body: %v", err)
	}
	return nil
}

func (m *Marketing) createCampaign(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	spec, err := campaignfile.DecodeJSON(io.LimitReader(r.Body, maxJSONBody))
	if err != nil {
		return err
	}
	if err := m.CheckTemplates(spec); err != nil {
		return campaigns.Errorf(campaigns.ErrInvalid, "template: %v", err)
	}
	c, err := m.Store.CreateCampaign(r.Context(), spec, u.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (m *Marketing) listCampaigns(w http.ResponseWriter, r *http.Request, _ campaigns.User) error {
	cs, err := m.Store.Campaigns(r.Context())
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []campaigns.Campaign{}
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

func (m *Marketing) getCampaign(w http.ResponseWriter, r *http.Request, _ campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := m.Store.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *Marketing) campaignStats(w http.ResponseWriter, r *http.Request, _ campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := m.Store.CampaignStats(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (m *Marketing) campaignAction(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	switch action := r.PathValue("action"); action {
	case "schedule":
		var body struct {
			At string `json:"at"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		c, cerr := m.Store.Campaign(ctx, id)
		if cerr != nil {
			return cerr
		}
		at, aerr := m.FirstRun(c.Spec, body.At)
		if aerr != nil {
			return campaigns.Invalid("at", aerr.Error())
		}
		err = m.Store.ScheduleCampaign(ctx, id, at, u.Name)
	case "pause":
		err = m.Store.PauseCampaign(ctx, id, u.Name)
	case "resume":
		err = m.Store.ResumeCampaign(ctx, id, u.Name)
	case "cancel":
		err = m.Store.CancelCampaign(ctx, id, u.Name)
	default:
		return campaigns.Errorf(campaigns.ErrNotFound, "no action %q (schedule, pause, resume, cancel)", action)
	}
	if err != nil {
		return err
	}
	c, err := m.Store.Campaign(ctx, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *Marketing) preview(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var body struct {
		Member  string `json:"member"`
		Channel string `json:"channel"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	ch, err := campaigns.ParseChannel(body.Channel)
	if err != nil {
		return campaigns.Invalid("channel", err.Error())
	}
	c, err := m.Store.Campaign(r.Context(), id)
	if err != nil {
		return err
	}
	member, err := m.Store.MemberByExternalID(r.Context(), body.Member)
	if err != nil {
		return err
	}
	msg, err := m.Preview(c, member, ch)
	if err != nil {
		return err
	}
	if err := m.Store.Audit(r.Context(), u.Name, "campaigns.preview", member.ID, map[string]any{"campaign_id": id, "channel": ch}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, msg)
	return nil
}

// importMembers takes the member CSV as the request body (text/csv), ?source= as on the command
// line. It answers 200 with the counts when every row was imported, 422 with the counts and the
// rejected rows when some were not (the others were imported), and 400 for a file that cannot be
// trusted (nothing imported).
func (m *Marketing) importMembers(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	source := campaigns.SourceImport
	if v := r.URL.Query().Get("source"); v != "" {
		src, err := campaigns.ParseConsentSource(v)
		if err != nil {
			return campaigns.Invalid("source", err.Error())
		}
		source = src
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "upload.csv"
	}
	body := io.LimitReader(r.Body, maxImportBody)
	res, err := m.Store.ImportMembers(r.Context(), func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(body, name, row)
	}, source, name, u.Name)
	var fe *csvfile.FileError
	if errors.As(err, &fe) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fe.Error()})
		return nil
	}
	if err != nil {
		return err
	}
	rejected := make([]string, len(res.Rejections))
	for i, re := range res.Rejections {
		rejected[i] = re.Error()
	}
	status := http.StatusOK
	if len(rejected) > 0 {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, map[string]any{"imported": res.Imported, "updated": res.Updated, "unchanged": res.Unchanged,
		"rejected": res.Rejected, "rejections": rejected})
	return nil
}

func (m *Marketing) exportMember(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	x, err := m.Store.ExportMember(r.Context(), r.PathValue("id"), u.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="member-%d.json"`, x.Member.ID))
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (m *Marketing) eraseMember(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := m.Store.EraseMember(r.Context(), r.PathValue("id"), u.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"erased": true, "member_id": id})
	return nil
}

func (m *Marketing) setConsent(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	ch, err := campaigns.ParseChannel(r.PathValue("channel"))
	if err != nil {
		return campaigns.Invalid("channel", err.Error())
	}
	var body struct {
		Status         string `json:"status"`
		Source         string `json:"source"`
		WordingVersion string `json:"wording_version"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	st, err := campaigns.ParseConsentStatus(body.Status)
	if err != nil {
		return campaigns.Invalid("status", err.Error())
	}
	src, err := campaigns.ParseConsentSource(body.Source)
	if err != nil {
		return campaigns.Invalid("source", err.Error())
	}
	ev, err := m.Store.RecordConsent(r.Context(), r.PathValue("id"), postgres.ConsentChange{Channel: ch, Status: st, Source: src, WordingVersion: body.WordingVersion}, u.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

func (m *Marketing) getCoupon(w http.ResponseWriter, r *http.Request, _ campaigns.User) error {
	c, err := m.Store.Coupon(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *Marketing) redeemCoupon(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	var body struct {
		Store    string `json:"store"`
		OrderRef string `json:"order_ref"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	c, err := m.Store.RedeemCoupon(r.Context(), r.PathValue("code"), body.Store, body.OrderRef, u.Name, m.Location)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
