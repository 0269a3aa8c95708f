// Package demodata generates realistic, deterministic demo members of Jack's Mood's loyalty register
// for `dispatch seed`: Finnish, Swedish-speaking and English-speaking people with real postal codes,
// E.164 mobile numbers, mixed consents and two years of purchases.
//
// The same seed always gives the same people, on every platform. The generator is built for
// streaming a million members into the store: Next fills a caller-owned Person and makes one
// allocation per person (the string all its generated text fields share).
package demodata

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// Person is one generated member with their purchases. The text fields are what the member CSV and
// the store take as they are: the phone in E.164, the email a bare ASCII address, the city in upper
// case as Posti writes it (Swedish speakers in bilingual towns get the Swedish names of the town and
// street). It is the domain's campaigns.NewMember, which the store loads; what Next puts in each
// field:
//
//	ExternalID is "JM" and the person's sequence number in eight digits (JM00000001, ...); unique
//	within one Generator. From the 100,000,000th person on it has nine digits or more.
//	FirstName and LastName may carry ä, ö, å and other letters; Email is their ASCII
//	transliteration, "firstname.lastname<sequence number>@example.com", unique within one
//	Generator, or "" (about 10 %).
//	Phone is a mobile number in E.164: +35840, +35841, +35844, +35845, +35846 or +35850 and
//	seven digits (+4670 for members living in Sweden), unique within a Generator's first ten
//	million people, or "" (about 15 %).
//	Street is "Mannerheimintie 12 A 5" and the like; "" for about 1 % (an incomplete address).
//	PostalCode and City are a real Finnish postal code and its post town in upper case
//	("00100", "HELSINKI"). Country is "FI", or "SE" for the 0.5 % living in Sweden, whose postal
//	code is Swedish ("113 51") and city Swedish ("STOCKHOLM").
//	Language is Finnish for about 88 %, Swedish for 6 % (most of them in the capital area,
//	Ostrobothnia, Åland and on the southern coast) and English for 6 %.
//	EmailConsent and SMSConsent are nil when the member was never asked, else point to true
//	(granted) or false (withdrawn). Of members with an email, about 60 % granted and 15 %
//	withdrew; of members with a phone, 30 % granted and 10 % withdrew SMS. The pointers are shared
//	by every Person of the Generator: read them, never write through them.
//	PostalObjection (about 8 %) means the member has objected to postal marketing.
//	AddressProtected (about 0.3 %) is the population register's address protection.
//	Deceased (about 0.2 %) is the population register's notice of death.
//	Purchases are 0 to 12 purchases within the two years before the Generator's now, in
//	ascending order of time. Next reuses the slice's array: copy it to keep it.
type Person = campaigns.NewMember

// Purchase is one purchase registered to a membership (campaigns.NewPurchase). What Next puts in
// each field:
//
//	PurchasedAt is within the two years before the Generator's now, to the second, in UTC,
//	during the shops' opening hours (06:00-19:00 UTC).
//	AmountCents is the sum paid in euro cents, 19.90 to 249.00 euros.
//	Store is the shop: "Jack's Mood Kamppi", "Jack's Mood Verkkokauppa" (the web shop), ...
//	OrderRef is the member's ExternalID, a dash and the purchase's number ("JM00000001-003");
//	unique within one Generator.
type Purchase = campaigns.NewPurchase

// Shares of the population, in parts per million where a share is drawn with chance.
const (
	emailPPM            = 900_000 // members with an email address
	phonePPM            = 850_000 // members with a phone number
	incompleteStreetPPM = 10_000  // Finnish addresses without a street
	postalObjectionPPM  = 80_000
	addressProtectedPPM = 3_000
	deceasedPPM         = 2_000

	maxPurchases   = 12
	phoneNumbers   = 10_000_000 // seven-digit subscriber numbers
	secondsPerDay  = 86_400
	openingSeconds = 6 * 3600  // shops open at 06:00 UTC (08:00 or 09:00 in Helsinki)
	openSeconds    = 13 * 3600 // and close 13 hours later

	// pcgStream is the second PCG seed word: fixed, so that the seed alone decides the people.
	pcgStream = 0x4a61636b734d6f6f // "JacksMoo"
)

// Language indexes for the tables below.
const (
	langFi = iota
	langSv
	langEn
)

var languages = [3]campaigns.Language{campaigns.Finnish, campaigns.Swedish, campaigns.English}

// abroadPPM is the share of each language's members who live in Sweden: 0.5 % in all.
var abroadPPM = [3]uint32{3_000, 30_000, 10_000}

// purchaseCounts weights how many purchases a member has: index is the count.
var purchaseCounts = []int{25, 18, 14, 11, 8, 6, 5, 4, 3, 2, 2, 1, 1}

// cents are the price endings of the shops' price tags.
var cents = [8]int64{90, 90, 90, 90, 95, 0, 0, 50}

// name is a name as written and as used in an email address (lower-case ASCII).
type name struct{ text, ascii string }

// nameList is a list of names with a weighted choice among them.
type nameList struct {
	names []name
	pick  weighted
}

// surname holds a surname's male and female forms; they differ only in languages that inflect them.
type surname struct{ male, female name }

// nameGroup is the names of one language or origin.
type nameGroup struct {
	male, female nameList
	surnames     []surname
	surnamePick  weighted
}

// weighted chooses an index with probability proportional to its weight.
type weighted struct{ cum []uint32 }

// Generator makes people, one a call to Next. It is not safe for concurrent use; run one
// Generator per goroutine, with different seeds.
type Generator struct {
	src      *rand.PCG
	n        uint64 // people made so far
	nowUnix  int64
	firstDay int64 // the first day (Unix days) a purchase may fall on
	days     int   // days from firstDay up to and including today
	keys     [4]uint32

	// granted and withdrawn are what Person's consent pointers point at.
	granted, withdrawn bool

	towns       []town
	townPick    [3]weighted
	centralPick []weighted // per town, or over genericCentral for towns without their own
	finnish     nameGroup
	swedish     nameGroup
	foreign     []nameGroup
	foreignPick weighted
	countPick   weighted

	buf   []byte
	times [maxPurchases]int64
	refs  [maxPurchases][2]int
}

// New returns a Generator whose people are decided by seed alone; now is the moment the
// purchases lead up to (the purchases fall in the two years before it).
func New(seed uint64, now time.Time) *Generator {
	g := &Generator{
		src:       rand.NewPCG(seed, pcgStream),
		nowUnix:   now.Unix(),
		granted:   true,
		withdrawn: false,
		towns:     towns(),
		buf:       make([]byte, 0, 512),
	}
	for i := range g.keys {
		g.keys[i] = uint32(g.src.Uint64() >> 32)
	}
	lo := now.AddDate(-2, 0, 0).Unix()
	g.firstDay = floorDiv(lo, secondsPerDay) + 1
	g.days = int(floorDiv(g.nowUnix, secondsPerDay) - g.firstDay + 1)

	var fi, sv, en []int
	for i := range g.towns {
		t := &g.towns[i]
		fi, sv, en = append(fi, t.fi), append(sv, t.sv), append(en, t.en)
		if t.central == nil {
			t.central = genericCentral
		}
		g.centralPick = append(g.centralPick, rankWeighted(len(t.central)))
	}
	g.townPick = [3]weighted{newWeighted(fi), newWeighted(sv), newWeighted(en)}

	g.finnish = newNameGroup(finnishMale, finnishFemale, finnishSurnames)
	g.swedish = newNameGroup(swedishMale, swedishFemale, swedishSurnames)
	var ow []int
	for _, o := range foreignOrigins {
		g.foreign = append(g.foreign, newNameGroup(o.male, o.female, o.surnames))
		ow = append(ow, o.weight)
	}
	g.foreignPick = newWeighted(ow)
	g.countPick = newWeighted(purchaseCounts)
	return g
}

// Next fills p with the next person, overwriting every field. It keeps p.Purchases' array and
// appends to it, so that a caller streaming people allocates nothing for purchases after the
// first few people.
func (g *Generator) Next(p *Person) {
	g.n++
	purchases := p.Purchases[:0]
	*p = Person{Country: "FI"}

	b := append(g.buf[:0], "JM"...)
	b = appendPadded(b, g.n, 8)
	idEnd := len(b)

	lang := langFi
	switch x := g.intn(100); {
	case x >= 94:
		lang = langEn
	case x >= 88:
		lang = langSv
	}
	p.Language = languages[lang]

	first, last := g.name(lang)
	p.FirstName, p.LastName = first.text, last.text

	// Address.
	home := storeOnline
	abroad := g.chance(abroadPPM[lang])
	streetStart, streetEnd := len(b), len(b)
	if abroad {
		a := &abroadAddresses[g.intn(len(abroadAddresses))]
		p.Country, p.PostalCode, p.City = "SE", a.code, a.city
		b = append(b, a.street...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(1+g.intn(60)), 10)
		streetEnd = len(b)
	} else {
		ti := g.townPick[lang].pick(g)
		t := &g.towns[ti]
		// Swedish speakers use the Swedish names in bilingual towns; in Mariehamn everyone does.
		swedishNames := t.citySv != "" && (lang == langSv || t.citySv == t.city)
		p.City = t.city
		if swedishNames {
			p.City = t.citySv
		}
		p.PostalCode = t.codes[g.intn(len(t.codes))]
		home = t.store
		if !g.chance(incompleteStreetPPM) {
			b = g.appendStreet(b, ti, swedishNames)
			streetEnd = len(b)
		}
	}

	// Email and phone.
	emailStart, emailEnd := len(b), len(b)
	if g.chance(emailPPM) {
		b = append(b, first.ascii...)
		b = append(b, '.')
		b = append(b, last.ascii...)
		b = strconv.AppendUint(b, g.n, 10)
		b = append(b, "@example.com"...)
		emailEnd = len(b)
		switch x := g.intn(100); {
		case x < 60:
			p.EmailConsent = &g.granted
		case x < 75:
			p.EmailConsent = &g.withdrawn
		}
	}
	phoneStart, phoneEnd := len(b), len(b)
	if g.chance(phonePPM) {
		if abroad {
			b = append(b, "+4670"...)
		} else {
			b = append(b, "+358"...)
			switch x := g.intn(100); {
			case x < 30:
				b = append(b, "40"...)
			case x < 60:
				b = append(b, "50"...)
			case x < 75:
				b = append(b, "44"...)
			case x < 85:
				b = append(b, "45"...)
			case x < 95:
				b = append(b, "46"...)
			default:
				b = append(b, "41"...)
			}
		}
		b = appendPadded(b, uint64(g.subscriber(uint32((g.n-1)%phoneNumbers))), 7)
		phoneEnd = len(b)
		switch x := g.intn(100); {
		case x < 30:
			p.SMSConsent = &g.granted
		case x < 40:
			p.SMSConsent = &g.withdrawn
		}
	}

	p.PostalObjection = g.chance(postalObjectionPPM)
	p.AddressProtected = g.chance(addressProtectedPPM)
	p.Deceased = g.chance(deceasedPPM)

	// Purchases: times first, sorted, then the rest in order.
	k := g.countPick.pick(g)
	for i := 0; i < k; i++ {
		t := g.purchaseTime()
		j := i
		for ; j > 0 && g.times[j-1] > t; j-- {
			g.times[j] = g.times[j-1]
		}
		g.times[j] = t
	}
	for i := 0; i < k; i++ {
		euros := int64(19 + min(g.intn(231), g.intn(231)))
		c := cents[g.intn(len(cents))]
		switch euros {
		case 19:
			c = 90
		case 249:
			c = 0
		}
		store := home
		switch x := g.intn(100); {
		case x < 30:
			store = storeOnline
		case x >= 85:
			store = g.intn(storeOnline)
		}
		start := len(b)
		b = append(b, b[:idEnd]...)
		b = append(b, '-')
		b = appendPadded(b, uint64(i+1), 3)
		g.refs[i] = [2]int{start, len(b)}
		purchases = append(purchases, Purchase{
			PurchasedAt: time.Unix(g.times[i], 0).UTC(),
			AmountCents: euros*100 + c,
			Store:       stores[store],
		})
	}

	// One string for all generated text; the fields are slices of it.
	s := string(b)
	g.buf = b
	p.ExternalID = s[:idEnd]
	if streetEnd > streetStart {
		p.Street = s[streetStart:streetEnd]
	}
	if emailEnd > emailStart {
		p.Email = s[emailStart:emailEnd]
	}
	if phoneEnd > phoneStart {
		p.Phone = s[phoneStart:phoneEnd]
	}
	for i := range purchases {
		purchases[i].OrderRef = s[g.refs[i][0]:g.refs[i][1]]
	}
	p.Purchases = purchases
}

// name returns a first name and a surname fitting the language: Finnish speakers mostly have
// Finnish names (some Swedish surnames), Swedish speakers Swedish ones (some Finnish surnames),
// and three in four English speakers have names from abroad.
func (g *Generator) name(lang int) (first, last name) {
	female := g.intn(2) == 0
	group, surnames := &g.finnish, &g.finnish
	switch lang {
	case langFi:
		if g.intn(100) < 7 {
			surnames = &g.swedish
		}
	case langSv:
		group, surnames = &g.swedish, &g.swedish
		if g.intn(100) < 20 {
			surnames = &g.finnish
		}
	case langEn:
		if g.intn(100) < 75 {
			group = &g.foreign[g.foreignPick.pick(g)]
			surnames = group
		}
	}
	if female {
		first = group.female.names[group.female.pick.pick(g)]
		last = surnames.surnames[surnames.surnamePick.pick(g)].female
	} else {
		first = group.male.names[group.male.pick.pick(g)]
		last = surnames.surnames[surnames.surnamePick.pick(g)].male
	}
	return first, last
}

// appendStreet appends a street address in town ti: a centre street with a block of flats
// ("Hämeenkatu 3 B 14") or a residential street with a house, a row house or flats.
func (g *Generator) appendStreet(b []byte, ti int, swedishNames bool) []byte {
	t := &g.towns[ti]
	central := g.intn(2) == 0
	var s *street
	if central {
		s = &t.central[g.centralPick[ti].pick(g)]
	} else {
		s = &genericSuburban[g.intn(len(genericSuburban))]
	}
	if swedishNames {
		b = append(b, s.sv...)
	} else {
		b = append(b, s.fi...)
	}
	b = append(b, ' ')
	number := 1 + g.intn(40)
	if g.intn(10) < 3 {
		number = 1 + g.intn(150)
	}
	b = strconv.AppendInt(b, int64(number), 10)
	flat := g.intn(100)
	if (central && flat < 85) || (!central && flat < 40) {
		b = append(b, ' ', "AAAABBBCCD"[g.intn(10)], ' ')
		apartment := 1 + g.intn(40)
		if g.intn(10) < 2 {
			apartment = 1 + g.intn(99)
		}
		return strconv.AppendInt(b, int64(apartment), 10)
	}
	if !central && flat < 55 { // a row house: the letter of the house, no flat number
		b = append(b, ' ', "ABCDE"[g.intn(5)])
	}
	return b
}

// purchaseTime returns a Unix time within the two years before now, during opening hours.
func (g *Generator) purchaseTime() int64 {
	for {
		t := (g.firstDay+int64(g.intn(g.days)))*secondsPerDay + openingSeconds + int64(g.intn(openSeconds))
		if t < g.nowUnix {
			return t
		}
	}
}

// subscriber maps i (below phoneNumbers) to a seven-digit subscriber number, a different one for
// every i: a keyed four-round Feistel permutation of 24 bits, walked until it lands below ten million.
func (g *Generator) subscriber(i uint32) uint32 {
	x := i
	for {
		l, r := x>>12, x&0xfff
		for _, k := range g.keys {
			f := r*0x9e3779b1 + k
			f ^= f >> 15
			f *= 0x85ebca6b
			f ^= f >> 13
			l, r = r, (l^f)&0xfff
		}
		x = l<<12 | r
		if x < phoneNumbers {
			return x
		}
	}
}

// intn returns a number in [0, n) for n < 2^32 (multiply-shift: the bias is below n/2^32).
func (g *Generator) intn(n int) int {
	return int((g.src.Uint64() >> 32) * uint64(n) >> 32)
}

// chance reports true with probability ppm in a million.
func (g *Generator) chance(ppm uint32) bool {
	return (g.src.Uint64()>>32)*1_000_000 < uint64(ppm)<<32
}

// newWeighted returns a chooser over the indexes of weights; every weight must be positive.
func newWeighted(weights []int) weighted {
	w := weighted{cum: make([]uint32, len(weights))}
	var sum uint32
	for i, x := range weights {
		sum += uint32(x)
		w.cum[i] = sum
	}
	return w
}

// rankWeighted weights n entries ordered by frequency: the first ten times as often as the
// hundredth, like names and streets in real life.
func rankWeighted(n int) weighted {
	ws := make([]int, n)
	for i := range ws {
		ws[i] = 10_000 / (i + 10)
	}
	return newWeighted(ws)
}

// pick returns an index with probability proportional to its weight.
func (w *weighted) pick(g *Generator) int {
	x := uint32(g.intn(int(w.cum[len(w.cum)-1])))
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if w.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func newNameList(names []string) nameList {
	l := nameList{names: make([]name, len(names)), pick: rankWeighted(len(names))}
	for i, n := range names {
		l.names[i] = name{n, emailASCII(n)}
	}
	return l
}

// newNameGroup prepares first names and surnames; a surname "Ivanov/Ivanova" has a female form.
func newNameGroup(male, female, surnames []string) nameGroup {
	g := nameGroup{male: newNameList(male), female: newNameList(female), surnamePick: rankWeighted(len(surnames))}
	for _, s := range surnames {
		m, f, ok := strings.Cut(s, "/")
		if !ok {
			f = m
		}
		g.surnames = append(g.surnames, surname{name{m, emailASCII(m)}, name{f, emailASCII(f)}})
	}
	return g
}

// transliterations are the letters of the name tables outside a-z, as written in an email address.
var transliterations = map[rune]string{
	'ä': "a", 'ö': "o", 'å': "a", 'ü': "u", 'õ': "o", 'é': "e", 'è': "e", 'ê': "e", 'á': "a", 'à': "a",
	'â': "a", 'í': "i", 'ó': "o", 'ú': "u", 'ñ': "n", 'ç': "c", 'ł': "l", 'ś': "s", 'ń': "n", 'ż': "z",
	'ź': "z", 'ć': "c", 'ę': "e", 'ą': "a", 'ø': "o", 'æ': "ae", 'ß': "ss",
	'-': "-", '\'': "", ' ': "",
}

// emailASCII returns name as an email address's local part uses it: lower case, ä as a, ö as o,
// å as a and so on, apostrophes and spaces dropped. Letters it does not know are dropped too.
func emailASCII(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		} else {
			b.WriteString(transliterations[r])
		}
	}
	return b.String()
}

// appendPadded appends v in decimal with leading zeros to at least width digits.
func appendPadded(b []byte, v uint64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Source returns the people of New(seed, now) as a campaigns.MemberSource: each call starts a fresh
// generator, so the stream is the same every time it is read.
func Source(seed uint64, now time.Time) campaigns.MemberSource {
	return func() func(*campaigns.NewMember) {
		g := New(seed, now)
		return g.Next
	}
}
