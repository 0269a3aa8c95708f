// Command register measures the member register's bulk paths on a fresh database: importing a
// member CSV of N rows (then the same file again, which must change nothing) and seeding M members.
//
//	go run ./bench/register -members 100000 -seed-members 1000000
//
// It creates (and afterwards drops) the database named by -db on the PostgreSQL of -url.
package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"time"

	_ "github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/campaigns/demodata"
	"github.com/jacksmood/dispatch/campaigns/postgres"
)

func main() {
	server := flag.String("url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (any database)")
	dbName := flag.String("db", "dispatch_bench_register", "scratch database to create and drop")
	members := flag.Int("members", 100000, "rows in the member CSV to import")
	seedMembers := flag.Int("seed-members", 1000000, "members to seed (0 to skip)")
	flag.Parse()
	ctx := context.Background()

	admin, err := sql.Open("postgres", *server)
	check(err)
	admin.Exec("DROP DATABASE IF EXISTS " + *dbName)
	_, err = admin.Exec("CREATE DATABASE " + *dbName)
	check(err)
	defer admin.Exec("DROP DATABASE IF EXISTS " + *dbName)

	url := fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", *dbName)
	store, err := postgres.Open(ctx, url)
	check(err)
	// The bench's register is its own: any fixed key serves.
	store.SetRegisterKey([]byte("bench register key, not a secret"))
	_, err = store.Migrate(ctx)
	check(err)

	file := filepath.Join(os.TempDir(), "dispatch-bench-members.csv")
	check(writeMembersCSV(file, *members))
	defer os.Remove(file)
	fmt.Printf("machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())

	for _, pass := range []string{"import", "re-import"} {
		t0 := time.Now()
		res, err := importFile(ctx, store, file)
		check(err)
		d := time.Since(t0)
		fmt.Printf("%-10s %7d rows in %6.2fs (%6.0f rows/s): imported %d, updated %d, unchanged %d, rejected %d\n",
			pass, *members, d.Seconds(), float64(*members)/d.Seconds(), res.Imported, res.Updated, res.Unchanged, res.Rejected)
	}
	if *seedMembers > 0 {
		t0 := time.Now()
		res, err := store.SeedMembers(ctx, *seedMembers, demodata.Source(42, time.Now()), campaigns.Audit{Actor: "bench", Action: campaigns.AuditMembersSeed})
		check(err)
		d := time.Since(t0)
		fmt.Printf("seed       %7d members in %6.2fs (%6.0f members/s): %d consent events, %d purchases\n",
			res.Members, d.Seconds(), float64(res.Members)/d.Seconds(), res.Consents, res.Purchases)
	}
	store.Close()
}

func importFile(ctx context.Context, store *postgres.Store, file string) (campaigns.ImportResult, error) {
	f, err := os.Open(file)
	if err != nil {
		return campaigns.ImportResult{}, err
	}
	defer f.Close()
	return store.ImportMembers(ctx, func(row func(csvfile.MemberRow) error) ([]csvfile.RowError, error) {
		return csvfile.ReadMembers(f, "bench.csv", row)
	}, campaigns.SourceImport, campaigns.Audit{Actor: "bench", Action: campaigns.AuditMembersImport})
}

// writeMembersCSV writes n demo members in the member CSV format, with local-form phone numbers so
// that the import's normalisation is part of what is measured.
func writeMembersCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(append(append([]string{}, csvfile.MemberColumns...), csvfile.MemberOptionalColumns...))
	gen := demodata.New(99, time.Now())
	var p demodata.Person
	flag := csvfile.FormatFlag
	yes := func(b bool) string { return flag(&b) }
	for i := 0; i < n; i++ {
		gen.Next(&p)
		phone := p.Phone
		if len(phone) > 4 && phone[:4] == "+358" {
			phone = "0" + phone[4:6] + " " + phone[6:9] + " " + phone[9:]
		}
		w.Write([]string{p.ExternalID, p.FirstName, p.LastName, p.Email, phone, p.Street, p.PostalCode, p.City,
			p.Country, string(p.Language), flag(p.EmailConsent), flag(p.SMSConsent), yes(p.PostalObjection),
			yes(p.AddressProtected), yes(p.Deceased)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Close()
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
