package api

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// A run's results: its sends per channel over time (an SVG chart drawn on the server, with the same
// figures in a table), its deliveries by state, failures and skips by reason, the unsubscribes and
// SMS STOPs it led to, and its coupons issued and redeemed, per channel. A run still sending keeps
// its figures fresh (data-live).

// resultsRoutes serves a run's results page and its live fragment.
func (c *console) resultsRoutes() {
	read := func(h http.HandlerFunc) http.Handler {
		return c.s.requireSession(h, campaigns.RoleMarketer, campaigns.RoleOps)
	}
	c.s.mux.Handle("GET /campaigns/{id}/runs/{run}", read(c.resultsPage))
	c.s.mux.Handle("GET /campaigns/{id}/runs/{run}/live", read(c.resultsLive))
}

// resultsData is what results.html shows.
type resultsData struct {
	Campaign campaigns.Campaign
	Results  campaigns.RunResults
	Channels []channelResults
	Chart    sendChart
	// Live is whether the figures may still move.
	Live bool
}

// channelResults is one channel's line of the results, with its reasons sorted.
type channelResults struct {
	Channel campaigns.Channel
	campaigns.ChannelResults
	Failures []reasonCount
	Skips    []reasonCount
}

// RedeemedPct is the share of the channel's coupons redeemed, 0..100.
func (c channelResults) RedeemedPct() float64 {
	if c.CouponsIssued == 0 {
		return 0
	}
	return float64(c.CouponsRedeemed) * 100 / float64(c.CouponsIssued)
}

// HasCoupons reports whether any channel issued a coupon.
func (d resultsData) HasCoupons() bool {
	for _, ch := range d.Channels {
		if ch.CouponsIssued > 0 {
			return true
		}
	}
	return d.Campaign.Spec.Kind == campaigns.KindCoupon
}

// resultsFor reads the run's results and lays them out.
func (c *console) resultsFor(w http.ResponseWriter, r *http.Request) (resultsData, bool) {
	id, ok := c.pathID(w, r, "id")
	if !ok {
		return resultsData{}, false
	}
	runID, ok := c.pathID(w, r, "run")
	if !ok {
		return resultsData{}, false
	}
	u := user(r)
	cp, err := c.svc.Campaign(r.Context(), u, id)
	if err != nil {
		c.s.fail(w, r, err)
		return resultsData{}, false
	}
	res, err := c.svc.RunResults(r.Context(), u, id, runID)
	if err != nil {
		c.s.fail(w, r, err)
		return resultsData{}, false
	}
	d := resultsData{Campaign: cp, Results: res,
		Live: res.Status == campaigns.RunRunning || res.Status == campaigns.RunSelecting}
	order := append([]campaigns.Channel{}, cp.Spec.Channels...)
	var extra []campaigns.Channel
	for ch := range res.Channels {
		if !containsChannel(order, ch) {
			extra = append(extra, ch)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	order = append(order, extra...)
	for _, ch := range order {
		cr := res.Channels[ch]
		line := channelResults{Channel: ch, ChannelResults: cr}
		for reason, n := range cr.FailedByReason {
			line.Failures = append(line.Failures, reasonCount{reason, n})
		}
		for reason, n := range cr.Reasons {
			line.Skips = append(line.Skips, reasonCount{string(reason), n})
		}
		sortReasons(line.Failures)
		sortReasons(line.Skips)
		if cr.Queued > 0 {
			d.Live = true
		}
		d.Channels = append(d.Channels, line)
	}
	d.Chart = newSendChart(res, order, requestLang(r), c.s.timezone())
	return d, true
}

func containsChannel(list []campaigns.Channel, ch campaigns.Channel) bool {
	for _, c := range list {
		if c == ch {
			return true
		}
	}
	return false
}

// sortReasons orders reasons most frequent first, then by name; "(other reasons)" last.
func sortReasons(rs []reasonCount) {
	sort.Slice(rs, func(i, j int) bool {
		oi, oj := rs[i].Reason == campaigns.OtherFailureReasons, rs[j].Reason == campaigns.OtherFailureReasons
		if oi != oj {
			return oj
		}
		if rs[i].Count != rs[j].Count {
			return rs[i].Count > rs[j].Count
		}
		return rs[i].Reason < rs[j].Reason
	})
}

// resultsPage answers GET /campaigns/{id}/runs/{run}.
func (c *console) resultsPage(w http.ResponseWriter, r *http.Request) {
	d, ok := c.resultsFor(w, r)
	if !ok {
		return
	}
	v := c.s.newView(r, "results.title", d)
	v.Title = v.T("results.heading", d.Results.RunID) + ": " + d.Campaign.Name
	v.Nav = "campaigns"
	c.s.render(w, r, http.StatusOK, "results.html", v)
}

// resultsLive answers GET /campaigns/{id}/runs/{run}/live: the figures alone, for console.js.
func (c *console) resultsLive(w http.ResponseWriter, r *http.Request) {
	d, ok := c.resultsFor(w, r)
	if !ok {
		return
	}
	c.s.render(w, r, http.StatusOK, "results-body", c.s.newView(r, "results.title", d))
}

// sendChart is a run's sends over time as stacked bars, one bar a timeline bucket and one colour a
// channel, laid out for an SVG of Width × Height.
type sendChart struct {
	Width, Height float64
	// Left, Top, PlotW, PlotH are the plot area's place and size.
	Left, Top, PlotW, PlotH float64
	Bars                    []chartBar
	YTicks                  []chartTick
	XTicks                  []chartTick
	Channels                []campaigns.Channel
	// Rows are the figures of the chart as a table: a bucket's start and its sends per channel.
	Rows []chartRow
	// Bucket is the width of a bar, written for people ("10 min").
	Bucket string
	// Empty is true when nothing was sent.
	Empty bool
}

// Bottom is the y of the plot's x axis.
func (c sendChart) Bottom() float64 { return c.Top + c.PlotH }

// Right is the x of the plot's right edge.
func (c sendChart) Right() float64 { return c.Left + c.PlotW }

// chartBar is one bucket's stack: a segment per channel that sent in it.
type chartBar struct {
	Segments []chartSegment
	Label    string
}

// chartSegment is one channel's part of a bar.
type chartSegment struct {
	Channel       campaigns.Channel
	X, Y, W, H    float64
	N             int64
	Start, Finish string
}

// chartTick is a labelled tick of an axis at Pos (x for the time axis, y for the count axis).
type chartTick struct {
	Pos   float64
	Label string
}

// chartRow is a line of the chart's table.
type chartRow struct {
	Start string
	Sent  []int64
}

// newSendChart lays out the run's timeline for the channels in order.
func newSendChart(res campaigns.RunResults, channels []campaigns.Channel, lang string, loc *time.Location) sendChart {
	c := sendChart{Width: 720, Height: 260, Left: 64, Top: 12, Channels: channels}
	c.PlotW, c.PlotH = c.Width-c.Left-12, c.Height-c.Top-44
	width := res.BucketWidth()
	c.Bucket = durationText(lang, width)
	var top int64
	for _, b := range res.Timeline {
		var sum int64
		for _, ch := range channels {
			sum += b.Sent[ch]
		}
		top = max(top, sum)
	}
	c.Empty = top == 0
	yMax := niceCeil(top)
	n := len(res.Timeline)
	if n == 0 {
		return c
	}
	slot := c.PlotW / float64(n)
	barW := math.Max(slot*0.8, 1)
	spansDays := n > 1 && res.Timeline[0].Start.In(loc).YearDay() != res.Timeline[n-1].Start.In(loc).YearDay()
	label := func(t time.Time) string { return chartTime(lang, t.In(loc), width, spansDays) }
	for i, b := range res.Timeline {
		x := c.Left + float64(i)*slot + (slot-barW)/2
		y := c.Bottom()
		bar := chartBar{Label: label(b.Start)}
		row := chartRow{Start: formatTime(lang, b.Start, loc)}
		for _, ch := range channels {
			k := b.Sent[ch]
			row.Sent = append(row.Sent, k)
			if k == 0 {
				continue
			}
			h := float64(k) / float64(yMax) * c.PlotH
			y -= h
			bar.Segments = append(bar.Segments, chartSegment{Channel: ch, X: round1(x), Y: round1(y), W: round1(barW), H: round1(h), N: k})
		}
		c.Bars = append(c.Bars, bar)
		c.Rows = append(c.Rows, row)
	}
	for i := 0; i <= 4; i++ {
		v := yMax * int64(i) / 4
		c.YTicks = append(c.YTicks, chartTick{Pos: round1(c.Bottom() - float64(v)/float64(yMax)*c.PlotH), Label: formatInt(lang, v)})
	}
	every := (n + 5) / 6
	for i := 0; i < n; i += every {
		c.XTicks = append(c.XTicks, chartTick{Pos: round1(c.Left + float64(i)*slot + slot/2), Label: label(res.Timeline[i].Start)})
	}
	return c
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// niceCeil is the top of the count axis for a highest bar of n: four times a step of 1, 2 or 5 ×
// 10^k, so that the axis's four ticks are round numbers (4 at least).
func niceCeil(n int64) int64 {
	want := max((n+3)/4, 1)
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= want {
				return 4 * m * p
			}
		}
	}
}

// chartTime writes a bucket's start for the time axis: the time of day, with the date when the run
// spans days or buckets are a day or longer.
func chartTime(lang string, t time.Time, width time.Duration, spansDays bool) string {
	day, clock := "2.1.", "15.04"
	if lang != langFinnish {
		day, clock = "2 Jan", "15:04"
	}
	if width < time.Minute {
		clock += map[bool]string{true: ".05", false: ":05"}[lang == langFinnish]
	}
	switch {
	case width >= 24*time.Hour:
		return t.Format(day)
	case spansDays:
		return t.Format(day + " " + clock)
	}
	return t.Format(clock)
}

// durationText writes a bucket's width for people: "10 s", "1 min", "6 h", "1 d".
func durationText(lang string, d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return translate(lang, "results.days", int64(d/(24*time.Hour)))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d s", d/time.Second)
}

func init() {
	addMessages(map[string][2]string{
		"results.title":            {"Results", "Tulokset"},
		"results.heading":          {"Results of run %d", "Ajon %d tulokset"},
		"results.run":              {"Run", "Ajo"},
		"results.scheduled":        {"Scheduled for", "Ajastettu"},
		"results.started":          {"Started", "Alkoi"},
		"results.finished":         {"Finished", "Päättyi"},
		"results.asof":             {"Figures as of %s.", "Luvut hetkellä %s."},
		"results.live":             {"The run is still sending: the figures update by themselves.", "Ajo lähettää yhä: luvut päivittyvät itsestään."},
		"results.sends":            {"Sends over time", "Lähetykset ajan mittaan"},
		"results.chartdesc":        {"Messages sent per %s, stacked by channel.", "Lähetetyt viestit %s jaksoissa, kanavittain pinottuina."},
		"results.nosends":          {"Nothing sent yet.", "Mitään ei ole vielä lähetetty."},
		"results.table":            {"The chart's figures", "Kaavion luvut"},
		"results.bucket":           {"From", "Alkaen"},
		"results.days":             {"%d d", "%d vrk"},
		"results.bychannel":        {"By channel", "Kanavittain"},
		"results.channel":          {"Channel", "Kanava"},
		"results.total":            {"Recipients", "Vastaanottajia"},
		"results.withdrawals":      {"Opted out", "Perui luvan"},
		"results.withdrawals.hint": {"Email: unsubscribed by the link; SMS: replied STOP; counted for the last message the member got before.", "Sähköposti: peruttu viestin linkistä; tekstiviesti: vastattu STOP; lasketaan viimeisimmälle viestille, jonka jäsen sai ennen sitä."},
		"results.failures":         {"Failures by reason", "Epäonnistumiset syittäin"},
		"results.skips":            {"Skipped by reason", "Ohitetut syittäin"},
		"results.nofailures":       {"No failures.", "Ei epäonnistumisia."},
		"results.noskips":          {"No one skipped.", "Ketään ei ohitettu."},
		"results.coupons":          {"Coupons", "Kupongit"},
		"results.issued":           {"Issued", "Annettu"},
		"results.redeemed":         {"Redeemed", "Käytetty"},
		"results.redeemedpct":      {"%.1f %%", "%.1f %%"},
		"results.unsubscribed":     {"%s unsubscribed", "%s perui tilauksen"},
		"results.stops":            {"%s replied STOP", "%s vastasi STOP"},
		"results.back":             {"Back to the campaign", "Takaisin kampanjaan"},
	})
}
