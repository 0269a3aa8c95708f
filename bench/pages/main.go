// Command pages measures how fast the console's pages answer over a real listener, signed in as an
// admin, with the register of bench/console (1,000,000 members and a finished run over all of
// them): run `go run ./bench/console` first, then `go run ./bench/pages`. Each page is fetched -n
// times in turn; the table gives p50, p95 and the slowest. The segment count (the audience) has its
// own target (2 s) and is fetched -audience times.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker/compose"
	"github.com/jacksmood/dispatch/worker/print"
)

func main() {
	dbName := flag.String("db", "dispatch_bench_console", "the database bench/console made")
	n := flag.Int("n", 50, "fetches of each page")
	audienceN := flag.Int("audience", 5, "fetches of the segment count")
	flag.Parse()
	ctx := context.Background()

	store, err := postgres.Open(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", *dbName))
	check(err)
	defer store.Close()
	store.SetRegisterKey([]byte("bench register key, not a secret"))
	var members int64
	check(store.DB().Get(&members, `SELECT count(*) FROM members`))
	if members == 0 {
		fail("database %s has no members: run go run ./bench/console first", *dbName)
	}
	var finished, draft, run int64
	var member string
	check(store.DB().Get(&finished, `SELECT campaign_id FROM runs WHERE status = 'finished' ORDER BY id DESC LIMIT 1`))
	check(store.DB().Get(&run, `SELECT id FROM runs WHERE campaign_id = $1 ORDER BY id DESC LIMIT 1`, finished))
	check(store.DB().Get(&draft, `SELECT id FROM campaigns WHERE status = 'draft' ORDER BY id LIMIT 1`))
	check(store.DB().Get(&member, `SELECT m.external_id FROM deliveries d JOIN members m ON m.id = d.member_id WHERE d.run_id = $1 ORDER BY d.id LIMIT 1`, run))

	loc, err := time.LoadLocation("Europe/Helsinki")
	check(err)
	r, err := templates.New("")
	check(err)
	composer, err := compose.New(compose.Config{PublicURL: "https://news.jacksmood.example", Secret: []byte("bench-secret-0123456789abcdef"),
		MessageIDDomain: "jacksmood.example", Timezone: loc}, r)
	check(err)
	letters, err := print.NewRenderer(print.Config{})
	check(err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := service.New(service.Config{Timezone: loc, Letters: letters}, store, composer, log)
	check(err)
	srv, err := api.New(api.Config{Service: svc, Secret: []byte("bench-secret-0123456789abcdef")}, store, log)
	check(err)
	hs := httptest.NewServer(srv.Staff())
	defer hs.Close()

	admin := campaigns.User{Name: "os:bench", Role: campaigns.RoleAdmin}
	name := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	_, token, err := svc.AddUser(ctx, admin, name, campaigns.RoleAdmin)
	check(err)
	client := signIn(hs.URL, name, token)

	pages := []string{
		"/",
		"/campaigns",
		"/campaigns/progress",
		fmt.Sprintf("/campaigns/%d", finished),
		fmt.Sprintf("/campaigns/%d/progress", finished),
		fmt.Sprintf("/campaigns/%d", draft),
		fmt.Sprintf("/campaigns/%d/preview?channel=email&lang=fi", draft),
		fmt.Sprintf("/campaigns/%d/preview?channel=sms&lang=fi", draft),
		fmt.Sprintf("/campaigns/%d/runs/%d", finished, run),
		"/members/" + url.PathEscape(member),
		"/audit",
		"/audit?member=" + url.QueryEscape(member),
		"/users",
	}
	fmt.Printf("%d members; campaign %d with finished run %d; draft %d; member %s; %d fetches a page\n\n",
		members, finished, run, draft, member, *n)
	fmt.Printf("%-52s %9s %9s %9s\n", "page", "p50", "p95", "max")
	for _, p := range pages {
		report(p, measure(client, hs.URL+p, *n))
	}
	fmt.Println()
	for _, p := range []string{fmt.Sprintf("/campaigns/%d/audience", draft), fmt.Sprintf("/campaigns/%d/confirm?action=schedule", draft)} {
		report(p, measure(client, hs.URL+p, *audienceN))
	}
}

// signIn signs in through the login form, as a browser does, and returns a client with the session.
func signIn(base, name, token string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	check(err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		fail("no CSRF token on the login page")
	}
	form := url.Values{"name": {name}, "token": {token}, "csrf": {string(m[1])}, "next": {"/"}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = c.Do(req)
	check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		fail("sign-in answered %d", resp.StatusCode)
	}
	return c
}

// measure fetches the page n times after one warm-up fetch, and returns the times, sorted.
func measure(c *http.Client, u string, n int) []time.Duration {
	get := func() time.Duration {
		t0 := time.Now()
		resp, err := c.Get(u)
		check(err)
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		check(err)
		took := time.Since(t0)
		if resp.StatusCode != http.StatusOK {
			fail("%s answered %d", u, resp.StatusCode)
		}
		return took
	}
	get()
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = get()
	}
	slices.Sort(out)
	return out
}

func report(page string, ts []time.Duration) {
	q := func(p float64) time.Duration { return ts[min(len(ts)-1, int(float64(len(ts))*p))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("%-52s %9s %9s %9s\n", page, ms(q(0.5)), ms(q(0.95)), ms(ts[len(ts)-1]))
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/pages: "+format+"\n", args...)
	os.Exit(1)
}
