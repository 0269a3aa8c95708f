package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/campaignfile"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// maxBody bounds request bodies: a campaign or a consent is small; a member import is a file.
const (
	maxJSONBody   = 1 << 20
	maxImportBody = 512 << 20
)

// marketing serves the JSON API of marketers and privacy officers under /api/: each handler parses
// the request, calls one use case of the service with the authenticated user, and writes its answer.
// The service says what each role may do; a refusal is 403.
type marketing struct {
	svc *service.Service
}

func (s *Server) marketingRoutes(svc *service.Service) {
	m := &marketing{svc: svc}
	mk := func(h func(http.ResponseWriter, *http.Request, campaigns.User) error) http.Handler {
		return s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, _ := UserFrom(r.Context())
			err := h(w, r, user)
			var tooLarge *http.MaxBytesError
			switch {
			case err == nil:
			case errors.Is(err, errBodyTooLarge) || errors.As(err, &tooLarge):
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "request body too large: nothing was done"})
			case errors.Is(err, errNotJSON):
				writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": err.Error()})
			default:
				s.writeError(w, r, err)
			}
		}))
	}
	s.mux.Handle("POST /api/campaigns", mk(m.createCampaign))
	s.mux.Handle("GET /api/campaigns", mk(m.listCampaigns))
	s.mux.Handle("GET /api/campaigns/{id}", mk(m.getCampaign))
	s.mux.Handle("GET /api/campaigns/{id}/stats", mk(m.campaignStats))
	s.mux.Handle("POST /api/campaigns/{id}/preview", mk(m.preview))
	s.mux.Handle("POST /api/campaigns/{id}/{action}", mk(m.campaignAction))
	s.mux.Handle("POST /api/members/import", mk(m.importMembers))
	s.mux.Handle("GET /api/members/{id}/export", mk(m.exportMember))
	s.mux.Handle("DELETE /api/members/{id}", mk(m.eraseMember))
	s.mux.Handle("PUT /api/members/{id}/consents/{channel}", mk(m.setConsent))
	s.mux.Handle("GET /api/coupons/{code}", mk(m.getCoupon))
	s.mux.Handle("POST /api/coupons/{code}/redeem", mk(m.redeemCoupon))
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, campaigns.Errorf(campaigns.ErrNotFound, "no campaign %q", r.PathValue("id"))
	}
	return id, nil
}

// decodeJSON reads a small JSON body strictly (readJSONBody); an empty body leaves v as it is.
func decodeJSON(r *http.Request, v any) error {
	_, err := readJSONBody(r, maxJSONBody, v, true)
	return err
}

func (m *marketing) createCampaign(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	data, err := readJSONBody(r, maxJSONBody, &campaigns.Spec{}, false)
	if err != nil {
		return err
	}
	spec, err := campaignfile.DecodeJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	c, err := m.svc.CreateCampaign(r.Context(), u, spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (m *marketing) listCampaigns(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	cs, err := m.svc.Campaigns(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

func (m *marketing) getCampaign(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := m.svc.Campaign(r.Context(), u, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *marketing) campaignStats(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	st, err := m.svc.Stats(r.Context(), u, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (m *marketing) campaignAction(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var c campaigns.Campaign
	switch action := r.PathValue("action"); action {
	case "schedule":
		var body struct {
			At    string `json:"at"`
			Again bool   `json:"again"`
		}
		if err := decodeJSON(r, &body); err != nil {
			return err
		}
		sc, err := m.svc.Schedule(ctx, u, id, service.ScheduleOptions{At: body.At, Again: body.Again})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, sc)
		return nil
	case "pause":
		c, err = m.svc.Pause(ctx, u, id)
	case "resume":
		c, err = m.svc.Resume(ctx, u, id)
	case "cancel":
		c, err = m.svc.Cancel(ctx, u, id)
	default:
		return campaigns.Errorf(campaigns.ErrNotFound, "no action %q (schedule, pause, resume, cancel)", action)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *marketing) preview(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
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
	msg, err := m.svc.Preview(r.Context(), u, id, body.Member, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, msg)
	return nil
}

// importMembers takes the member CSV as the request body (text/csv), ?source= as on the command
// line. It answers 200 with the counts when every row was imported, 422 with the counts and the
// rejected rows when some were not (the others were imported), and 400 for a file that cannot be
// trusted (nothing imported).
func (m *marketing) importMembers(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
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
	// The upload is read to a temporary file first, and only then imported: a slow or trickling
	// upload holds no database connection or transaction while it arrives. A file over the limit
	// fails the import whole (413): it is never read as a shorter file.
	spool, err := os.CreateTemp("", "dispatch-import-*.csv")
	if err != nil {
		return fmt.Errorf("import: spool the upload: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	if _, err := io.Copy(spool, http.MaxBytesReader(w, r.Body, maxImportBody)); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return campaigns.Errorf(campaigns.ErrInvalid, "the upload broke off: %v", err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	res, err := m.svc.ImportMembers(r.Context(), u, spool, name, source)
	var fe *campaigns.FileError
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
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

func (m *marketing) exportMember(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	x, err := m.svc.ExportMember(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="member-%d.json"`, x.Member.ID))
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (m *marketing) eraseMember(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	id, err := m.svc.EraseMember(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"erased": true, "member_id": id})
	return nil
}

func (m *marketing) setConsent(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
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
	ev, err := m.svc.SetConsent(r.Context(), u, r.PathValue("id"), campaigns.ConsentChange{Channel: ch, Status: st, Source: src, WordingVersion: body.WordingVersion})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

func (m *marketing) getCoupon(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	c, err := m.svc.Coupon(r.Context(), u, r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (m *marketing) redeemCoupon(w http.ResponseWriter, r *http.Request, u campaigns.User) error {
	var body struct {
		Store    string `json:"store"`
		OrderRef string `json:"order_ref"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	c, err := m.svc.RedeemCoupon(r.Context(), u, r.PathValue("code"), body.Store, body.OrderRef)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
