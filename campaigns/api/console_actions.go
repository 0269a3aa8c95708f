package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// A campaign's actions: schedule (now, at its own time or at another), send again (a finished
// campaign), pause, resume and cancel. Each button of the campaign's page leads to a confirmation
// page that says in numbers what the action will do (GET /campaigns/{id}/confirm?action=X), whose
// form posts the action (POST /campaigns/{id}/X); then the campaign's page again. Only marketers
// (and admins) act: the service refuses anyone else, and the pages show them no buttons.

// The actions, as the confirmation page's ?action= and the form's path name them.
const (
	actionSchedule = "schedule"
	actionAgain    = "again"
	actionPause    = "pause"
	actionResume   = "resume"
	actionCancel   = "cancel"
)

// allowedActions are the actions a campaign's state allows, in the order of the page's buttons
// (the store's transitions: a draft, scheduled or finished campaign may be scheduled, a scheduled or
// running one paused, a paused one resumed, and any not finished or cancelled cancelled).
func allowedActions(s campaigns.CampaignStatus) []string {
	switch s {
	case campaigns.StatusDraft:
		return []string{actionSchedule, actionCancel}
	case campaigns.StatusScheduled:
		return []string{actionSchedule, actionPause, actionCancel}
	case campaigns.StatusRunning:
		return []string{actionPause, actionCancel}
	case campaigns.StatusPaused:
		return []string{actionResume, actionCancel}
	case campaigns.StatusFinished:
		return []string{actionAgain}
	}
	return nil
}

// Actions are the actions the campaign's state allows, for the campaign page's buttons.
func (d campaignPageData) Actions() []string { return allowedActions(d.Campaign.Status) }

// Editable reports whether the campaign's definition may still be changed (a draft).
func (d campaignPageData) Editable() bool { return d.Campaign.Status == campaigns.StatusDraft }

// actionRoutes serves the confirmation page, the actions and the segment's size.
func (c *console) actionRoutes() {
	act := func(h http.HandlerFunc) http.Handler { return c.s.requireSession(h, campaigns.RoleMarketer) }
	c.s.mux.Handle("GET /campaigns/{id}/confirm", act(c.confirmPage))
	for _, a := range []string{actionSchedule, actionAgain, actionPause, actionResume, actionCancel} {
		c.s.mux.Handle("POST /campaigns/{id}/"+a, act(c.doAction(a)))
	}
	c.s.mux.Handle("GET /campaigns/{id}/audience", act(c.campaignAudience))
}

// confirmData is what campaign_confirm.html shows.
type confirmData struct {
	Campaign campaigns.Campaign
	Action   string
	// Summary says what the action does, in numbers; Details add to it; Warning is what cannot be
	// undone or repeats a send.
	Summary string
	Details []string
	Warning string
	// Audience is the campaign's audience now, for schedule and again.
	Audience *audienceView
	// When is the schedule form's choice: "now", "spec" (the campaign's own time) or "at"; At the
	// time typed; AtError what is wrong with it.
	When    string
	At      string
	AtError string
	// SpecWhen says when the campaign's own schedule runs it ("" when it has none).
	SpecWhen string
	Zone     string
}

// Scheduling reports whether the action schedules the campaign (and so asks when).
func (d confirmData) Scheduling() bool { return d.Action == actionSchedule || d.Action == actionAgain }

// Danger reports whether the action's button is to look dangerous.
func (d confirmData) Danger() bool { return d.Action == actionCancel || d.Action == actionAgain }

// confirmPage answers GET /campaigns/{id}/confirm?action=X: what the action will do, and its form.
func (c *console) confirmPage(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	d, ok := c.confirmData(w, r, id, r.URL.Query().Get("action"))
	if !ok {
		return
	}
	c.renderConfirm(w, r, http.StatusOK, d)
}

func (c *console) renderConfirm(w http.ResponseWriter, r *http.Request, status int, d confirmData) {
	v := c.s.newView(r, "confirm.title."+d.Action, d)
	v.Title = v.T("confirm.title."+d.Action) + ": " + d.Campaign.Name
	v.Nav = "campaigns"
	c.s.render(w, r, status, "campaign_confirm.html", v)
}

// confirmData works out what the action would do to the campaign now. An action the campaign's
// state does not allow is answered 409; ok false has answered.
func (c *console) confirmData(w http.ResponseWriter, r *http.Request, id int64, action string) (confirmData, bool) {
	u := user(r)
	lang := requestLang(r)
	cp, err := c.svc.Campaign(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return confirmData{}, false
	}
	if !contains([]string{actionSchedule, actionAgain, actionPause, actionResume, actionCancel}, action) {
		c.s.renderMessage(w, r, http.StatusNotFound, "err.notfound", "err.nosuchpage")
		return confirmData{}, false
	}
	if !contains(allowedActions(cp.Status), action) {
		c.s.fail(w, r, campaigns.Errorf(campaigns.ErrConflict, "%s", translate(lang, "confirm.notnow",
			translate(lang, "status."+string(cp.Status)))))
		return confirmData{}, false
	}
	d := confirmData{Campaign: cp, Action: action, Zone: c.s.timezone().String()}
	loc := c.s.timezone()
	switch action {
	case actionSchedule, actionAgain:
		aud, err := c.svc.Audience(r.Context(), u, id)
		if err != nil {
			c.s.fail(w, r, err)
			return confirmData{}, false
		}
		av := newAudienceView(cp, aud)
		d.Audience = &av
		d.When = "now"
		switch {
		case cp.Spec.Schedule.At != "":
			d.When = "spec"
			if t, err := campaigns.ParseAt(cp.Spec.Schedule.At, loc); err == nil {
				d.SpecWhen = translate(lang, "confirm.when.at", formatTime(lang, t, loc))
			} else {
				d.SpecWhen = translate(lang, "confirm.when.at", cp.Spec.Schedule.At)
			}
		case cp.Spec.Schedule.Cron != "":
			d.When = "spec"
			d.SpecWhen = translate(lang, "confirm.when.cron", cp.Spec.Schedule.Cron)
		}
		when := translate(lang, "confirm.when.now")
		if d.When == "spec" {
			when = d.SpecWhen
		}
		list := av.channelList(lang)
		if cp.Spec.Strategy == campaigns.StrategyFirst {
			d.Summary = translate(lang, "confirm.sends.members", formatInt(lang, av.Messages), when, list)
		} else {
			d.Summary = translate(lang, "confirm.sends.messages", formatInt(lang, av.Messages), when, list)
		}
		d.Details = append(d.Details, translate(lang, "audience.segment", formatInt(lang, aud.Segment), formatInt(lang, aud.Members)))
		if skipped := av.skippedList(lang); skipped != "" {
			d.Details = append(d.Details, translate(lang, "confirm.leftout", skipped))
		}
		if action == actionAgain {
			runs, err := c.svc.Runs(r.Context(), u, id)
			if err != nil {
				c.s.fail(w, r, err)
				return confirmData{}, false
			}
			var sent int64
			for _, run := range runs {
				sent += run.Sent
			}
			d.Warning = translate(lang, "confirm.again.warning", formatInt(lang, sent))
		}
	default:
		st, err := c.svc.Stats(r.Context(), u, id)
		if err != nil {
			c.s.fail(w, r, err)
			return confirmData{}, false
		}
		var queued int64
		for _, cs := range st.Channels {
			queued += cs.Queued
		}
		switch action {
		case actionPause:
			if queued > 0 {
				d.Summary = translate(lang, "confirm.pause.queued", formatInt(lang, queued))
			} else {
				d.Summary = translate(lang, "confirm.pause.none")
			}
		case actionResume:
			if queued > 0 {
				d.Summary = translate(lang, "confirm.resume.queued", formatInt(lang, queued))
			} else {
				d.Summary = translate(lang, "confirm.resume.none")
			}
		case actionCancel:
			if queued > 0 {
				d.Summary = translate(lang, "confirm.cancel.queued", formatInt(lang, queued))
			} else {
				d.Summary = translate(lang, "confirm.cancel.none")
			}
			d.Warning = translate(lang, "confirm.cancel.final")
		}
	}
	return d, true
}

// doAction returns the handler of POST /campaigns/{id}/{action}: it does the action and goes back to
// the campaign's page, or shows the confirmation page again (422) with what is wrong with the time.
func (c *console) doAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := c.pathID(w, r, "id")
		if !ok {
			return
		}
		u := user(r)
		var err error
		when, at := r.PostFormValue("when"), strings.TrimSpace(r.PostFormValue("at"))
		switch action {
		case actionSchedule, actionAgain:
			opt := service.ScheduleOptions{Again: action == actionAgain}
			switch when {
			case "spec":
			case "at":
				if at == "" {
					err = campaigns.Invalid("at", "is required")
					break
				}
				opt.At = at
			default: // "now"
				opt.At = time.Now().In(c.s.timezone()).Format(time.RFC3339)
			}
			if err == nil {
				_, err = c.svc.Schedule(r.Context(), u, id, opt)
			}
		case actionPause:
			_, err = c.svc.Pause(r.Context(), u, id)
		case actionResume:
			_, err = c.svc.Resume(r.Context(), u, id)
		case actionCancel:
			_, err = c.svc.Cancel(r.Context(), u, id)
		}
		var fe *campaigns.FieldError
		if errors.As(err, &fe) && fe.Field == "at" {
			d, ok := c.confirmData(w, r, id, action)
			if !ok {
				return
			}
			d.When, d.At = "at", at
			if fe.Reason == "is required" {
				d.AtError = translate(requestLang(r), "edit.err.atrequired")
			} else {
				d.AtError = fieldReason(requestLang(r), "schedule.at", fe.Reason)
			}
			c.renderConfirm(w, r, http.StatusUnprocessableEntity, d)
			return
		}
		if err != nil {
			c.s.fail(w, r, err)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/campaigns/%d?done=%s", id, action), http.StatusSeeOther)
	}
}

// audienceView is a campaign's audience in the campaign's channel order.
type audienceView struct {
	campaigns.Audience
	Channels []audienceChannel
	// Messages adds up the deliveries over the channels: with the strategy first, the members reached.
	Messages int64
	// Skipped adds up the members left out over the channels.
	Skipped int64
}

// audienceChannel is one channel's audience, its reasons most frequent first.
type audienceChannel struct {
	Channel   campaigns.Channel
	Reachable int64
	Skipped   int64
	Reasons   []reasonCount
}

func newAudienceView(cp campaigns.Campaign, a campaigns.Audience) audienceView {
	v := audienceView{Audience: a}
	for _, ch := range cp.Spec.Channels {
		ca := a.Channels[ch]
		line := audienceChannel{Channel: ch, Reachable: ca.Reachable}
		for reason, n := range ca.Skipped {
			line.Reasons = append(line.Reasons, reasonCount{string(reason), n})
			line.Skipped += n
		}
		sortReasons(line.Reasons)
		v.Messages += ca.Reachable
		v.Skipped += line.Skipped
		v.Channels = append(v.Channels, line)
	}
	return v
}

// channelList writes "email 20 000, SMS 8 000, post 13 203".
func (v audienceView) channelList(lang string) string {
	parts := make([]string, 0, len(v.Channels))
	for _, ch := range v.Channels {
		parts = append(parts, translate(lang, "channel."+string(ch.Channel))+" "+formatInt(lang, ch.Reachable))
	}
	return strings.Join(parts, ", ")
}

// skippedList writes "email: no consent 2 310, no address 12; SMS: landline 40", or "".
func (v audienceView) skippedList(lang string) string {
	var parts []string
	for _, ch := range v.Channels {
		if len(ch.Reasons) == 0 {
			continue
		}
		rs := make([]string, 0, len(ch.Reasons))
		for _, r := range ch.Reasons {
			rs = append(rs, translate(lang, "reason."+r.Reason)+" "+formatInt(lang, r.Count))
		}
		parts = append(parts, translate(lang, "channel."+string(ch.Channel))+": "+strings.Join(rs, ", "))
	}
	return strings.Join(parts, "; ")
}

// campaignAudience answers GET /campaigns/{id}/audience: the segment's size per channel, a fragment
// for the campaign page's data-load (or with ?page=1 a page of its own, for browsers without
// script).
func (c *console) campaignAudience(w http.ResponseWriter, r *http.Request) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return
	}
	u := user(r)
	cp, err := c.svc.Campaign(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	a, err := c.svc.Audience(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	av := newAudienceView(cp, a)
	data := struct {
		Campaign campaigns.Campaign
		Audience audienceView
		Summary  string
		Skipped  string
	}{Campaign: cp, Audience: av}
	lang := requestLang(r)
	data.Summary = translate(lang, "audience.summary", av.channelList(lang), formatInt(lang, a.Members))
	if av.Skipped > 0 {
		data.Skipped = translate(lang, "audience.skipped", formatInt(lang, av.Skipped), av.skippedList(lang))
	}
	v := c.s.newView(r, "audience.title", data)
	if r.URL.Query().Get("page") != "" {
		v.Title = v.T("audience.title") + ": " + cp.Name
		v.Nav = "campaigns"
		c.s.render(w, r, http.StatusOK, "audience-page", v)
		return
	}
	c.s.render(w, r, http.StatusOK, "audience", v)
}

func init() {
	addMessages(map[string][2]string{
		"action.schedule":        {"Schedule…", "Ajasta…"},
		"action.again":           {"Send again…", "Lähetä uudelleen…"},
		"action.pause":           {"Pause…", "Keskeytä…"},
		"action.resume":          {"Resume…", "Jatka…"},
		"action.cancel":          {"Cancel campaign…", "Peru kampanja…"},
		"action.actions":         {"Actions", "Toiminnot"},
		"confirm.title.schedule": {"Schedule", "Ajasta"},
		"confirm.title.again":    {"Send again", "Lähetä uudelleen"},
		"confirm.title.pause":    {"Pause", "Keskeytä"},
		"confirm.title.resume":   {"Resume", "Jatka"},
		"confirm.title.cancel":   {"Cancel the campaign", "Peru kampanja"},
		"confirm.do.schedule":    {"Schedule", "Ajasta"},
		"confirm.do.again":       {"Send again", "Lähetä uudelleen"},
		"confirm.do.pause":       {"Pause", "Keskeytä"},
		"confirm.do.resume":      {"Resume", "Jatka"},
		"confirm.do.cancel":      {"Cancel the campaign", "Peru kampanja"},
		"confirm.back":           {"Do nothing", "Älä tee mitään"},
		"confirm.notnow":         {"This cannot be done to a campaign that is %s.", "Tätä ei voi tehdä kampanjalle, joka on tilassa %s."},
		"confirm.when.now":       {"now", "nyt"},
		"confirm.when.at":        {"at %s", "%s"},
		"confirm.when.cron":      {"on its schedule (%s)", "ajastuksensa mukaan (%s)"},
		"confirm.sends.members":  {"Sends to %s members %s: %s.", "Lähettää %s jäsenelle %s: %s."},
		"confirm.sends.messages": {"Sends %s messages %s: %s.", "Lähettää %s viestiä %s: %s."},
		"confirm.leftout":        {"Left out: %s.", "Jätetään pois: %s."},
		"confirm.figures":        {"Counted now; the run counts again when it starts.", "Laskettu nyt; ajo laskee uudelleen alkaessaan."},
		"confirm.again.warning":  {"It was sent before: earlier runs sent %s messages. Members who got it get it again.", "Kampanja on lähetetty jo: aiemmat ajot lähettivät %s viestiä. Sen saaneet saavat sen uudelleen."},
		"confirm.pause.queued":   {"Stops sending now; %s messages still queued wait until you resume.", "Pysäyttää lähetyksen nyt; jonossa olevat %s viestiä odottavat, kunnes jatkat."},
		"confirm.pause.none":     {"Stops the campaign: nothing is queued now, and it does not run until you resume it.", "Pysäyttää kampanjan: jonossa ei ole nyt mitään, eikä kampanja lähde ennen kuin jatkat sitä."},
		"confirm.resume.queued":  {"Continues sending: %s queued messages go out.", "Jatkaa lähetystä: jonossa olevat %s viestiä lähtevät."},
		"confirm.resume.none":    {"The campaign runs again at its time.", "Kampanja lähtee taas ajallaan."},
		"confirm.cancel.queued":  {"%s queued messages will not be sent.", "Jonossa olevia %s viestiä ei lähetetä."},
		"confirm.cancel.none":    {"The campaign will not be sent.", "Kampanjaa ei lähetetä."},
		"confirm.cancel.final":   {"This cannot be undone.", "Tätä ei voi perua."},
		"confirm.when":           {"When", "Milloin"},
		"confirm.opt.now":        {"Now", "Nyt"},
		"confirm.opt.spec":       {"As the campaign says: %s", "Kampanjan ajastuksen mukaan: %s"},
		"confirm.opt.at":         {"At another time", "Muuhun aikaan"},
		"done.schedule":          {"The campaign is scheduled.", "Kampanja on ajastettu."},
		"done.again":             {"The campaign is scheduled again.", "Kampanja on ajastettu uudelleen."},
		"done.pause":             {"The campaign is paused.", "Kampanja on keskeytetty."},
		"done.resume":            {"The campaign continues.", "Kampanja jatkuu."},
		"done.cancel":            {"The campaign is cancelled.", "Kampanja on peruttu."},
		"done.saved":             {"The campaign is saved.", "Kampanja on tallennettu."},
		"audience.title":         {"Who it reaches", "Ketä se tavoittaa"},
		"audience.counting":      {"Counting…", "Lasketaan…"},
		"audience.failed":        {"The segment could not be counted just now. Reload the page to try again.", "Kohderyhmää ei voitu laskea juuri nyt. Lataa sivu uudelleen yrittääksesi uudestaan."},
		"audience.count":         {"Show the figures", "Näytä luvut"},
		"audience.summary":       {"%s of %s members.", "%s – rekisterissä %s jäsentä."},
		"audience.segment":       {"The segment has %s of the register's %s members.", "Kohderyhmässä on %s rekisterin %s jäsenestä."},
		"audience.skipped":       {"%s left out: %s.", "%s jätetään pois: %s."},
		"audience.reachable":     {"Reached", "Tavoitetaan"},
		"audience.why":           {"Why left out", "Miksi pois"},
		"audience.leftout":       {"Left out", "Jätetään pois"},
		"audience.now":           {"If it were sent now; the run counts again when it starts.", "Jos se lähetettäisiin nyt; ajo laskee uudelleen alkaessaan."},
	})
}
