package demodata

import (
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/phone"
)

var testNow = time.Date(2026, 5, 14, 10, 30, 0, 0, time.UTC)

const sampleSize = 100_000

// people returns n people of generator g, each with its own copy of the purchases.
func people(g *Generator, n int) []Person {
	out := make([]Person, n)
	var p Person
	for i := range out {
		g.Next(&p)
		out[i] = p
		out[i].Purchases = slices.Clone(p.Purchases)
	}
	return out
}

var (
	sampleOnce sync.Once
	sampleData []Person
)

// sample is 100,000 people of seed 42, made once for the tests that measure shares.
func sample(t *testing.T) []Person {
	t.Helper()
	sampleOnce.Do(func() { sampleData = people(New(42, testNow), sampleSize) })
	return sampleData
}

func TestSameSeedSamePeople(t *testing.T) {
	a := people(New(7, testNow), 1000)
	b := people(New(7, testNow), 1000)
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("person %d differs between two generators of seed 7:\n%+v\n%+v", i+1, a[i], b[i])
		}
	}
}

// TestGolden pins the first people of seed 1, so that a change to the tables or the algorithm that
// would give existing demo databases different people is a deliberate one.
func TestGolden(t *testing.T) {
	g := New(1, testNow)
	var p Person
	var got []string
	for range 3 {
		g.Next(&p)
		got = append(got, p.ExternalID+" "+p.FirstName+" "+p.LastName+" "+p.Email+" "+p.Phone+" "+p.PostalCode+" "+p.City)
	}
	want := []string{
		"JM00000001 Jukka Jokinen jukka.jokinen1@example.com +358406366632 67600 KOKKOLA",
		"JM00000002 Maria Holmström maria.holmstrom2@example.com +358465982884 00320 HELSINKI",
		"JM00000003 Jenni Pitkänen jenni.pitkanen3@example.com +358507392748 53900 LAPPEENRANTA",
	}
	if !slices.Equal(got, want) {
		t.Errorf("first people of seed 1:\n got %q\nwant %q", got, want)
	}
}

func TestDifferentSeedsDifferentPeople(t *testing.T) {
	a := people(New(1, testNow), 1000)
	b := people(New(2, testNow), 1000)
	same := 0
	for i := range a {
		if a[i].FirstName == b[i].FirstName && a[i].LastName == b[i].LastName && a[i].Street == b[i].Street {
			same++
		}
	}
	if same > 20 {
		t.Errorf("%d of the first 1,000 people of seeds 1 and 2 have the same name and street", same)
	}
}

func TestUniqueKeys(t *testing.T) {
	ids := make(map[string]bool)
	refs := make(map[string]bool)
	emails := make(map[string]bool)
	phones := make(map[string]bool)
	for i, p := range sample(t) {
		if want := "JM" + padded(i+1, 8); p.ExternalID != want {
			t.Fatalf("person %d: ExternalID %q, want %q", i+1, p.ExternalID, want)
		}
		if ids[p.ExternalID] {
			t.Fatalf("ExternalID %s twice", p.ExternalID)
		}
		ids[p.ExternalID] = true
		for j, q := range p.Purchases {
			if want := p.ExternalID + "-" + padded(j+1, 3); q.OrderRef != want {
				t.Fatalf("%s: OrderRef %q, want %q", p.ExternalID, q.OrderRef, want)
			}
			if refs[q.OrderRef] {
				t.Fatalf("OrderRef %s twice", q.OrderRef)
			}
			refs[q.OrderRef] = true
		}
		if p.Email != "" {
			if emails[p.Email] {
				t.Fatalf("email %s twice", p.Email)
			}
			emails[p.Email] = true
		}
		if p.Phone != "" {
			if phones[p.Phone] {
				t.Fatalf("phone %s twice", p.Phone)
			}
			phones[p.Phone] = true
		}
	}
}

func padded(n, width int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", width-len(s)) + s
}

func TestPhonesAreE164(t *testing.T) {
	prefixes := []string{"+35840", "+35841", "+35844", "+35845", "+35846", "+35850"}
	seen := make(map[string]int)
	checked := 0
	for _, p := range sample(t) {
		if p.Phone == "" {
			continue
		}
		// The seeder marks every generated phone as able to take an SMS: it must be a mobile number.
		// The library is slow under -race: the first few thousand numbers cover every prefix.
		if checked++; checked <= 5000 {
			n, kind, err := phone.Normalize(p.Phone)
			if err != nil || n != p.Phone || !kind.SMS() {
				t.Fatalf("%s: phone %q normalises to %q, %q, %v", p.ExternalID, p.Phone, n, kind, err)
			}
		}
		want := prefixes
		if p.Country == "SE" {
			want = []string{"+4670"}
		}
		ok := false
		for _, pre := range want {
			if strings.HasPrefix(p.Phone, pre) && len(p.Phone) == len(pre)+7 {
				ok = true
				seen[pre]++
			}
		}
		if !ok {
			t.Fatalf("%s (%s): phone %q is not a mobile number of %v", p.ExternalID, p.Country, p.Phone, want)
		}
	}
	for _, pre := range prefixes {
		if seen[pre] == 0 {
			t.Errorf("no phone starts with %s", pre)
		}
	}
}

var emailForm = regexp.MustCompile(`^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*[0-9]+@example\.com$`)

func TestEmails(t *testing.T) {
	for _, p := range sample(t) {
		if p.Email == "" {
			if p.EmailConsent != nil {
				t.Fatalf("%s has no email but an email consent", p.ExternalID)
			}
			continue
		}
		n, err := campaigns.NormalizeEmail(p.Email)
		if err != nil || n != p.Email {
			t.Fatalf("%s: email %q normalises to %q, %v", p.ExternalID, p.Email, n, err)
		}
		if !emailForm.MatchString(p.Email) {
			t.Fatalf("%s: email %q is not firstname.lastname<digits>@example.com in lower-case ASCII", p.ExternalID, p.Email)
		}
		seq := strings.TrimLeft(p.ExternalID[2:], "0")
		if !strings.HasSuffix(p.Email, seq+"@example.com") {
			t.Fatalf("%s: email %q does not end in the member's number", p.ExternalID, p.Email)
		}
		local := strings.ToLower(p.FirstName[:1])
		if r := []rune(p.FirstName)[0]; r < 128 && !strings.HasPrefix(p.Email, local) {
			t.Fatalf("%s: email %q does not start with the first name %q", p.ExternalID, p.Email, p.FirstName)
		}
	}
}

// TestEveryNameTransliterates checks that no letter of the name tables is dropped on its way into an
// email address, and that none becomes empty.
func TestEveryNameTransliterates(t *testing.T) {
	var all []string
	all = append(all, finnishMale...)
	all = append(all, finnishFemale...)
	all = append(all, finnishSurnames...)
	all = append(all, swedishMale...)
	all = append(all, swedishFemale...)
	all = append(all, swedishSurnames...)
	for _, o := range foreignOrigins {
		all = append(all, o.male...)
		all = append(all, o.female...)
		for _, s := range o.surnames {
			all = append(all, strings.Split(s, "/")...)
		}
	}
	for _, n := range all {
		for _, r := range strings.ToLower(n) {
			if _, ok := transliterations[r]; !ok && (r < 'a' || r > 'z') {
				t.Errorf("name %q: letter %q has no transliteration", n, r)
			}
		}
		a := emailASCII(n)
		if a == "" || strings.HasPrefix(a, "-") || strings.HasSuffix(a, "-") {
			t.Errorf("name %q becomes %q in an email address", n, a)
		}
		for _, r := range a {
			if r > unicode.MaxASCII {
				t.Errorf("name %q becomes %q, not ASCII", n, a)
			}
		}
	}
	if got := emailASCII("Åsa-Märta Öhman"); got != "asa-martaohman" {
		t.Errorf(`emailASCII("Åsa-Märta Öhman") = %q`, got)
	}
}

var (
	swedishPostalCode = regexp.MustCompile(`^[1-9][0-9]{2} [0-9]{2}$`)
	// streetForm is a street name, a house number, and perhaps a stairway letter and a flat number.
	streetForm = regexp.MustCompile(`^\p{Lu}[\p{L} ]*\p{Ll} [1-9][0-9]*( [A-E]( [1-9][0-9]*)?)?$`)
)

func TestAddresses(t *testing.T) {
	knownCity := make(map[string]bool)
	for _, tw := range towns() {
		for _, c := range tw.codes {
			knownCity[c+" "+tw.city] = true
			if tw.citySv != "" {
				knownCity[c+" "+tw.citySv] = true
			}
		}
	}
	var abroad, noStreet int
	for _, p := range sample(t) {
		switch p.Country {
		case "FI":
			if !campaigns.ValidPostalCode(p.PostalCode) {
				t.Fatalf("%s: postal code %q", p.ExternalID, p.PostalCode)
			}
			if !knownCity[p.PostalCode+" "+p.City] {
				t.Fatalf("%s: postal code %s is not in %s", p.ExternalID, p.PostalCode, p.City)
			}
			if p.City != strings.ToUpper(p.City) {
				t.Fatalf("%s: city %q is not in upper case", p.ExternalID, p.City)
			}
			if p.Street == "" {
				noStreet++
			} else if !streetForm.MatchString(p.Street) {
				t.Fatalf("%s: street %q is not a street name and a number", p.ExternalID, p.Street)
			}
		case "SE":
			abroad++
			if !swedishPostalCode.MatchString(p.PostalCode) || p.Street == "" || p.City == "" {
				t.Fatalf("%s: Swedish address %q %q %q", p.ExternalID, p.Street, p.PostalCode, p.City)
			}
		default:
			t.Fatalf("%s: country %q", p.ExternalID, p.Country)
		}
	}
	share(t, "living in Sweden", abroad, 0.005, 0.0015)
	share(t, "without a street", noStreet, 0.01, 0.002)
}

// share fails the test when count out of sampleSize is further than tolerance from want.
func share(t *testing.T, what string, count int, want, tolerance float64) {
	t.Helper()
	got := float64(count) / sampleSize
	if math.Abs(got-want) > tolerance {
		t.Errorf("%s: %.2f %%, want %.2f %% ± %.2f", what, 100*got, 100*want, 100*tolerance)
	} else {
		t.Logf("%s: %.2f %% (want %.2f %%)", what, 100*got, 100*want)
	}
}

func TestShares(t *testing.T) {
	var fi, sv, en, email, phone, emailYes, emailNo, smsYes, smsNo, objection, protected, deceased int
	for _, p := range sample(t) {
		switch p.Language {
		case campaigns.Finnish:
			fi++
		case campaigns.Swedish:
			sv++
		case campaigns.English:
			en++
		default:
			t.Fatalf("%s: language %q", p.ExternalID, p.Language)
		}
		if p.Email != "" {
			email++
		}
		if p.Phone != "" {
			phone++
		} else if p.SMSConsent != nil {
			t.Fatalf("%s has no phone but an SMS consent", p.ExternalID)
		}
		count := func(c *bool, yes, no *int) {
			if c != nil && *c {
				*yes++
			} else if c != nil {
				*no++
			}
		}
		count(p.EmailConsent, &emailYes, &emailNo)
		count(p.SMSConsent, &smsYes, &smsNo)
		if p.PostalObjection {
			objection++
		}
		if p.AddressProtected {
			protected++
		}
		if p.Deceased {
			deceased++
		}
	}
	share(t, "Finnish speakers", fi, 0.88, 0.006)
	share(t, "Swedish speakers", sv, 0.06, 0.004)
	share(t, "English speakers", en, 0.06, 0.004)
	share(t, "without email", sampleSize-email, 0.10, 0.005)
	share(t, "without phone", sampleSize-phone, 0.15, 0.005)
	share(t, "email consent granted", emailYes, 0.90*0.60, 0.008)
	share(t, "email consent withdrawn", emailNo, 0.90*0.15, 0.006)
	share(t, "SMS consent granted", smsYes, 0.85*0.30, 0.008)
	share(t, "SMS consent withdrawn", smsNo, 0.85*0.10, 0.005)
	share(t, "postal objection", objection, 0.08, 0.005)
	share(t, "address protection", protected, 0.003, 0.001)
	share(t, "deceased", deceased, 0.002, 0.001)
}

func TestNamesAreFinnishSwedishAndForeign(t *testing.T) {
	withDiacritics := 0
	foreign := make(map[string]bool)
	finnishLast := make(map[string]bool)
	for _, s := range finnishSurnames {
		finnishLast[s] = true
	}
	for _, s := range swedishSurnames {
		finnishLast[s] = true
	}
	for _, p := range sample(t) {
		if strings.ContainsAny(p.FirstName+p.LastName, "äöåÄÖÅ") {
			withDiacritics++
		}
		if !finnishLast[p.LastName] {
			if p.Language != campaigns.English {
				t.Fatalf("%s: %s speaker with foreign surname %q", p.ExternalID, p.Language, p.LastName)
			}
			foreign[p.FirstName+" "+p.LastName] = true
		}
	}
	if withDiacritics < sampleSize/10 {
		t.Errorf("only %d people have ä, ö or å in their names", withDiacritics)
	}
	if len(foreign) < 300 {
		t.Errorf("only %d different foreign names", len(foreign))
	}
}

func TestSwedishSpeakersLiveInSwedishTowns(t *testing.T) {
	// A Swedish-speaking town: at least a fifth of its residents speak Swedish.
	swedishTown := make(map[string]bool)
	svCity := make(map[string]string) // postal code -> Swedish name in bilingual towns
	for _, tw := range towns() {
		if tw.sv*5 >= tw.fi+tw.sv+tw.en {
			swedishTown[tw.city] = true
			swedishTown[tw.citySv] = true
		}
		for _, c := range tw.codes {
			svCity[c] = tw.citySv
		}
	}
	var inTowns, svInTowns, elsewhere, svElsewhere int
	for _, p := range sample(t) {
		if p.Country != "FI" {
			continue
		}
		sv := p.Language == campaigns.Swedish
		if swedishTown[p.City] {
			inTowns++
			if sv {
				svInTowns++
			}
		} else {
			elsewhere++
			if sv {
				svElsewhere++
			}
		}
		if sv && svCity[p.PostalCode] != "" && p.City != svCity[p.PostalCode] {
			t.Fatalf("%s: Swedish speaker in %s %s, want the Swedish name %s", p.ExternalID, p.PostalCode, p.City, svCity[p.PostalCode])
		}
	}
	in, out := float64(svInTowns)/float64(inTowns), float64(svElsewhere)/float64(elsewhere)
	t.Logf("Swedish speakers: %.1f %% of %d members in Swedish-speaking towns, %.1f %% elsewhere", 100*in, inTowns, 100*out)
	if in < 0.35 || out > 0.04 {
		t.Errorf("Swedish speakers are %.1f %% in Swedish-speaking towns and %.1f %% elsewhere; want them concentrated", 100*in, 100*out)
	}
}

func TestPurchases(t *testing.T) {
	knownStore := make(map[string]bool)
	for _, s := range stores {
		knownStore[s] = true
	}
	from := testNow.AddDate(-2, 0, 0)
	var total, none, online int
	for _, p := range sample(t) {
		if len(p.Purchases) > maxPurchases {
			t.Fatalf("%s: %d purchases", p.ExternalID, len(p.Purchases))
		}
		if len(p.Purchases) == 0 {
			none++
		}
		for i, q := range p.Purchases {
			total++
			if !q.PurchasedAt.After(from) || !q.PurchasedAt.Before(testNow) {
				t.Fatalf("%s: purchase at %s, not within the two years before %s", p.ExternalID, q.PurchasedAt, testNow)
			}
			if i > 0 && q.PurchasedAt.Before(p.Purchases[i-1].PurchasedAt) {
				t.Fatalf("%s: purchases out of order: %s after %s", p.ExternalID, q.PurchasedAt, p.Purchases[i-1].PurchasedAt)
			}
			if q.AmountCents < 1990 || q.AmountCents > 24900 {
				t.Fatalf("%s: amount %d cents", p.ExternalID, q.AmountCents)
			}
			if !knownStore[q.Store] {
				t.Fatalf("%s: store %q", p.ExternalID, q.Store)
			}
			if q.Store == "Jack's Mood Verkkokauppa" {
				online++
			}
		}
	}
	share(t, "without purchases", none, 0.25, 0.01)
	if avg := float64(total) / sampleSize; avg < 2 || avg > 4 {
		t.Errorf("%.2f purchases a person on average", avg)
	}
	if f := float64(online) / float64(total); f < 0.25 || f > 0.40 {
		t.Errorf("%.0f %% of purchases online", 100*f)
	}
}

// TestPurchaseTimesNearMidnight checks the window when now falls before the shops open.
func TestPurchaseTimesNearMidnight(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	g := New(3, now)
	var p Person
	for range 20_000 {
		g.Next(&p)
		for _, q := range p.Purchases {
			if !q.PurchasedAt.After(now.AddDate(-2, 0, 0)) || !q.PurchasedAt.Before(now) {
				t.Fatalf("purchase at %s, now %s", q.PurchasedAt, now)
			}
		}
	}
}

// TestSubscriberIsPermutation checks that the first ten million people get ten million different
// subscriber numbers.
func TestSubscriberIsPermutation(t *testing.T) {
	if testing.Short() {
		t.Skip("ten million numbers")
	}
	g := New(9, testNow)
	seen := make([]uint64, phoneNumbers/64+1)
	for i := uint32(0); i < phoneNumbers; i++ {
		x := g.subscriber(i)
		if x >= phoneNumbers || seen[x/64]&(1<<(x%64)) != 0 {
			t.Fatalf("subscriber(%d) = %d, out of range or repeated", i, x)
		}
		seen[x/64] |= 1 << (x % 64)
	}
}

// TestOneAllocationPerPerson checks that a streaming caller's memory does not grow with the people:
// Next allocates only the string that holds the person's text.
func TestOneAllocationPerPerson(t *testing.T) {
	g := New(5, testNow)
	var p Person
	for range 1000 { // grow p.Purchases and the generator's buffer
		g.Next(&p)
	}
	if a := testing.AllocsPerRun(10_000, func() { g.Next(&p) }); a > 1 {
		t.Errorf("Next allocates %.2f times a person, want at most 1", a)
	}
}

func BenchmarkGenerate(b *testing.B) {
	g := New(1, testNow)
	var p Person
	b.ReportAllocs()
	for b.Loop() {
		g.Next(&p)
	}
}
