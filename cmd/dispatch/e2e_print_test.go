package main

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns/postgres/pgtest"
)

func TestPostalCampaignWritesPrintBatches(t *testing.T) {
	t.Parallel()
	s := newSystem(t)
	dir := t.TempDir()
	s.env["DISPATCH_PRINT_DIR"] = dir
	// Five letters (one objects to post, one lacks a street), sorted by postal code in the batch.
	s.must("members", "import", writeFile(t, "post.csv", memberHeader+
		"P1,Aino,Laine,,,Koulukatu 1,90100,OULU,FI,fi,,,no,,\n"+
		"P2,Åsa,Öhman,,,Strandvägen 2,22100,MARIEHAMN,FI,sv,,,no,,\n"+
		"P3,Eino,Mäki,,,Rantatie 3,00100,HELSINKI,FI,fi,,,no,,\n"+
		"P4,Olli,Objector,,,Katu 4,00200,HELSINKI,FI,fi,,,yes,,\n"+
		"P5,Nina,Nostreet,,,,00300,HELSINKI,FI,fi,,,no,,\n"+
		"P6,John,Smith,,,Mannerheimintie 6,00500,HELSINKI,FI,en,,,no,,\n"))
	id := s.campaign(strings.Replace(couponCampaign, "channels: [email]", "channels: [postal]", 1))
	s.must("campaigns", "schedule", id)
	s.start("scheduler", "--interval", "100ms")
	s.start("worker")
	s.waitFinished(id, 30*time.Second)

	pdfs, _ := filepath.Glob(filepath.Join(dir, "*.pdf"))
	if len(pdfs) != 1 {
		t.Fatalf("%d print batches, want 1", len(pdfs))
	}
	base := strings.TrimSuffix(pdfs[0], ".pdf")
	info, err := exec.Command("pdfinfo", pdfs[0]).Output()
	pgtest.Must(t, "pdfinfo", err)
	if !strings.Contains(string(info), "Pages:           4") || !strings.Contains(string(info), "(A4)") {
		t.Fatalf("pdfinfo:\n%s", info)
	}
	f, err := os.Open(base + ".csv")
	pgtest.Must(t, "manifest", err)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	pgtest.Must(t, "manifest", err)
	if strings.Join(rows[0], ",") != "batch_id,sequence,external_id,name,street,postal_code,city,country,coupon_code" || len(rows) != 5 {
		t.Fatalf("manifest: %v", rows)
	}
	var order []string
	db := s.dbHandle()
	for i, r := range rows[1:] {
		order = append(order, r[5])
		var code string
		pgtest.Must(t, "code", db.Get(&code, `SELECT c.code FROM coupons c JOIN members m ON m.id = c.member_id WHERE m.external_id = $1`, r[2]))
		if r[1] != strconv.Itoa(i+1) || r[8] != code {
			t.Fatalf("manifest row %v: want sequence %d and the logged code %s", r, i+1, code)
		}
		page, err := exec.Command("pdftotext", "-f", strconv.Itoa(i+1), "-l", strconv.Itoa(i+1), pdfs[0], "-").Output()
		pgtest.Must(t, "pdftotext", err)
		if !strings.Contains(string(page), r[4]) || !strings.Contains(string(page), code) {
			t.Fatalf("page %d lacks the street %q or the code %s:\n%s", i+1, r[4], code, page)
		}
	}
	if strings.Join(order, ",") != "00100,00500,22100,90100" {
		t.Fatalf("letters in the order %v, want by postal code", order)
	}
	check := exec.Command("sha256sum", "-c", filepath.Base(base)+".sha256")
	check.Dir = dir
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if n := pgtest.Count(t, db, `SELECT count(*) FROM deliveries WHERE channel = 'postal' AND status = 'sent' AND provider_ref = $1`, filepath.Base(pdfs[0])); n != 4 {
		t.Fatalf("%d letters recorded sent with the batch file", n)
	}
}
