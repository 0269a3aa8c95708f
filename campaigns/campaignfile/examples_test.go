package campaignfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/campaignfile"
	"github.com/jacksmood/dispatch/templates"
)

// The example campaign files that ship in campaigns/examples/ are accepted as they are, and their
// templates render on every channel in every language.
func TestExampleCampaignFiles(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("examples: %v %v", files, err)
	}
	r, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[campaigns.Kind]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := campaignfile.DecodeYAML(data, filepath.Base(f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := r.Check(spec.Template, spec.Channels); err != nil {
			t.Errorf("%s: template: %v", f, err)
		}
		kinds[spec.Kind] = true
	}
	if !kinds[campaigns.KindCoupon] || !kinds[campaigns.KindNewsletter] {
		t.Fatalf("the examples show kinds %v, want a coupon and a newsletter", kinds)
	}
}
