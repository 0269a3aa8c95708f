package api

import (
	"net/http"
	"sort"

	"github.com/jacksmood/dispatch/campaigns"
)

// campaignRoutes: the campaign list and a campaign's page, with their live progress fragments.
func (c *console) campaignRoutes() {
	read := func(h http.HandlerFunc) http.Handler {
		return c.s.requireSession(h, campaigns.RoleMarketer, campaigns.RoleOps)
	}
	c.s.mux.Handle("GET /campaigns", read(c.campaignList))
	c.s.mux.Handle("GET /campaigns/progress", read(c.campaignListProgress))
	c.s.mux.Handle("GET /campaigns/{id}", read(c.campaignPage))
	c.s.mux.Handle("GET /campaigns/{id}/progress", read(c.campaignProgress))
}

// channelProgress is one channel's line of a progress display.
type channelProgress struct {
	Channel campaigns.Channel
	campaigns.ChannelStats
	// Reasons are the skip reasons, most frequent first.
	Reasons []reasonCount
}

type reasonCount struct {
	Reason string
	Count  int64
}

// progress is a campaign's latest run as the pages show it.
type progress struct {
	CampaignID int64
	Status     campaigns.CampaignStatus
	RunID      int64
	Channels   []channelProgress
	// Live is whether the figures may still move (the page keeps refreshing them).
	Live bool
}

// newProgress orders a run's figures by the campaign's channels.
func newProgress(c campaigns.Campaign, st campaigns.Stats) progress {
	p := progress{CampaignID: c.ID, Status: c.Status, RunID: st.RunID,
		Live: c.Status == campaigns.StatusRunning || c.Status == campaigns.StatusScheduled}
	for _, ch := range c.Spec.Channels {
		cs := st.Channels[ch]
		cp := channelProgress{Channel: ch, ChannelStats: cs}
		for r, n := range cs.Reasons {
			cp.Reasons = append(cp.Reasons, reasonCount{string(r), n})
		}
		sort.Slice(cp.Reasons, func(i, j int) bool {
			if cp.Reasons[i].Count != cp.Reasons[j].Count {
				return cp.Reasons[i].Count > cp.Reasons[j].Count
			}
			return cp.Reasons[i].Reason < cp.Reasons[j].Reason
		})
		if cs.Queued > 0 {
			p.Live = true
		}
		p.Channels = append(p.Channels, cp)
	}
	return p
}

// campaignRow is a line of the campaign list.
type campaignRow struct {
	Campaign campaigns.Campaign
	Progress progress
}

// campaignRows reads every campaign with its latest run's figures, newest first.
func (c *console) campaignRows(r *http.Request) ([]campaignRow, error) {
	u := user(r)
	list, err := c.svc.Campaigns(r.Context(), u)
	if err != nil {
		return nil, err
	}
	progress, err := c.svc.Progress(r.Context(), u)
	if err != nil {
		return nil, err
	}
	rows := make([]campaignRow, 0, len(list))
	for _, cp := range list {
		rows = append(rows, campaignRow{Campaign: cp, Progress: newProgress(cp, progress[cp.ID])})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Campaign.ID > rows[j].Campaign.ID })
	return rows, nil
}

// campaignList answers GET /campaigns: every campaign with its status and live progress per channel.
func (c *console) campaignList(w http.ResponseWriter, r *http.Request) {
	rows, err := c.campaignRows(r)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	v := c.s.newView(r, "campaigns.title", rows)
	v.Nav = "campaigns"
	c.s.render(w, r, http.StatusOK, "campaigns.html", v)
}

// campaignListProgress answers GET /campaigns/progress: the list's table alone, for console.js.
func (c *console) campaignListProgress(w http.ResponseWriter, r *http.Request) {
	rows, err := c.campaignRows(r)
	if err != nil {
		c.s.fail(w, r, err)
		return
	}
	c.s.render(w, r, http.StatusOK, "campaign-table", c.s.newView(r, "campaigns.title", rows))
}

// campaignPageData is what a campaign's page shows.
type campaignPageData struct {
	Campaign campaigns.Campaign
	Progress progress
	Runs     []campaigns.RunSummary
	// Done names what was just done to the campaign (?done=: saved, schedule, pause, ...), for a
	// notice; "" for none.
	Done string
}

// campaignData reads what a campaign's page shows; ok false has answered the error.
func (c *console) campaignData(w http.ResponseWriter, r *http.Request) (campaignPageData, bool) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return campaignPageData{}, false
	}
	u := user(r)
	cp, err := c.svc.Campaign(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return campaignPageData{}, false
	}
	st, err := c.svc.Stats(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return campaignPageData{}, false
	}
	runs, err := c.svc.Runs(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return campaignPageData{}, false
	}
	return campaignPageData{Campaign: cp, Progress: newProgress(cp, st), Runs: runs}, true
}

// campaignPage answers GET /campaigns/{id}: the campaign's definition, live progress, actions,
// previews and run history.
func (c *console) campaignPage(w http.ResponseWriter, r *http.Request) {
	data, ok := c.campaignData(w, r)
	if !ok {
		return
	}
	if done := r.URL.Query().Get("done"); done == "saved" || contains([]string{actionSchedule, actionAgain, actionPause, actionResume, actionCancel}, done) {
		data.Done = done
	}
	v := c.s.newView(r, "campaign.title", data)
	v.Title = data.Campaign.Name
	v.Nav = "campaigns"
	c.s.render(w, r, http.StatusOK, "campaign.html", v)
}

// campaignProgress answers GET /campaigns/{id}/progress, for console.js: the page's live part
// (status, actions, progress, run history), so that all of it moves on when a run finishes.
func (c *console) campaignProgress(w http.ResponseWriter, r *http.Request) {
	data, ok := c.campaignData(w, r)
	if !ok {
		return
	}
	c.s.render(w, r, http.StatusOK, "campaign-live", c.s.newView(r, "campaign.title", data))
}

func init() {
	addMessages(map[string][2]string{
		"campaigns.title":          {"Campaigns", "Kampanjat"},
		"campaigns.new":            {"New campaign", "Uusi kampanja"},
		"campaigns.none":           {"No campaigns yet.", "Ei vielä kampanjoita."},
		"campaigns.name":           {"Name", "Nimi"},
		"campaigns.kind":           {"Kind", "Laji"},
		"campaigns.status":         {"Status", "Tila"},
		"campaigns.progress":       {"Progress of the latest run", "Viimeisimmän ajon eteneminen"},
		"campaign.title":           {"Campaign", "Kampanja"},
		"campaign.definition":      {"Definition", "Määrittely"},
		"campaign.channels":        {"Channels", "Kanavat"},
		"campaign.template":        {"Template", "Pohja"},
		"campaign.segment":         {"Segment", "Kohderyhmä"},
		"campaign.allmembers":      {"every member", "kaikki jäsenet"},
		"campaign.languages":       {"languages %s", "kielet %s"},
		"campaign.postalcodes":     {"postal codes %s", "postinumerot %s"},
		"campaign.purchased":       {"purchased within %s", "ostanut %s sisällä"},
		"campaign.minspend":        {"spent at least %s", "ostanut vähintään %s"},
		"campaign.coupon":          {"Coupon", "Kuponki"},
		"campaign.coupondays":      {"%s, valid %d days", "%s, voimassa %d päivää"},
		"campaign.schedule":        {"Schedule", "Ajastus"},
		"campaign.byhand":          {"scheduled by hand", "ajastetaan käsin"},
		"campaign.at":              {"once, at %s", "kerran, %s"},
		"campaign.cron":            {"recurring: %s", "toistuva: %s"},
		"campaign.nextrun":         {"Next run", "Seuraava ajo"},
		"campaign.strategy":        {"Strategy", "Strategia"},
		"campaign.createdby":       {"Created by %s, %s", "Luonut %s, %s"},
		"campaign.norun":           {"Not run yet.", "Ei ajettu vielä."},
		"campaign.run":             {"Run %d", "Ajo %d"},
		"campaign.runs":            {"Run history", "Ajohistoria"},
		"campaign.scheduledfor":    {"Scheduled for", "Ajastettu"},
		"campaign.started":         {"Started", "Alkoi"},
		"campaign.finished":        {"Finished", "Valmis"},
		"campaign.results":         {"Results", "Tulokset"},
		"campaign.live":            {"Updates by itself while the campaign runs.", "Päivittyy itsestään kampanjan edetessä."},
		"status.draft":             {"draft", "luonnos"},
		"status.scheduled":         {"scheduled", "ajastettu"},
		"status.running":           {"running", "käynnissä"},
		"status.paused":            {"paused", "keskeytetty"},
		"status.finished":          {"finished", "valmis"},
		"status.cancelled":         {"cancelled", "peruttu"},
		"status.selecting":         {"selecting", "valitaan"},
		"kind.coupon":              {"coupon offer", "kuponkitarjous"},
		"kind.newsletter":          {"newsletter", "uutiskirje"},
		"strategy.all":             {"every channel that may reach the member", "kaikki kanavat, joilla jäsenen saa tavoittaa"},
		"strategy.first":           {"only the first channel that may reach the member", "vain ensimmäinen kanava, jolla jäsenen saa tavoittaa"},
		"channel.email":            {"email", "sähköposti"},
		"channel.sms":              {"SMS", "tekstiviesti"},
		"channel.postal":           {"post", "kirje"},
		"progress.sent":            {"sent", "lähetetty"},
		"progress.failed":          {"failed", "epäonnistui"},
		"progress.skipped":         {"skipped", "ohitettu"},
		"progress.queued":          {"queued", "jonossa"},
		"progress.cancelled":       {"cancelled", "peruttu"},
		"progress.of":              {"of %s", "/ %s"},
		"progress.done":            {"%.0f %% done", "%.0f %% valmis"},
		"progress.skippedwhy":      {"Skipped", "Ohitettu"},
		"reason.no_consent":        {"no consent", "ei suostumusta"},
		"reason.no_address":        {"no address", "ei osoitetta"},
		"reason.objected":          {"objected", "kieltänyt"},
		"reason.suppressed":        {"on the ban list", "kieltolistalla"},
		"reason.deceased":          {"deceased", "kuollut"},
		"reason.address_protected": {"address protected", "turvakielto"},
		"reason.frequency_cap":     {"frequency cap", "lähetysraja"},
		"reason.landline":          {"landline", "lankapuhelin"},
		"reason.erased":            {"erased", "poistettu"},
	})
}
