package csvfile

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

const memberHeader = "external_id,first_name,last_name,email,phone,street,postal_code,city,country,language,email_consent,sms_consent,postal_objection"

// memberLine builds a member row in MemberColumns order (plus the optional columns when given) from a
// good row with the fields in set replaced.
func memberLine(set map[string]string, optional ...string) string {
	v := map[string]string{
		"external_id": "M1", "first_name": "Matti", "last_name": "Meikäläinen", "email": "matti@example.fi",
		"phone": "040 123 4567", "street": "Mannerheimintie 1", "postal_code": "00100", "city": "Helsinki",
		"country": "FI", "language": "fi", "email_consent": "yes", "sms_consent": "no", "postal_objection": "",
		"address_protected": "", "deceased": "",
	}
	for k, x := range set {
		v[k] = x
	}
	var f []string
	for _, c := range append(append([]string{}, MemberColumns...), optional...) {
		f = append(f, v[c])
	}
	return strings.Join(f, ",")
}

// readMembers reads a member file, collecting the clean rows.
func readMembers(t *testing.T, file string) ([]MemberRow, []RowError, error) {
	t.Helper()
	var rows []MemberRow
	rejected, err := ReadMembers(strings.NewReader(file), "members.csv", func(m MemberRow) error {
		rows = append(rows, m)
		return nil
	})
	return rows, rejected, err
}

func flag(b *bool) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprint(*b)
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func lines(rows []MemberRow) []int {
	var l []int
	for _, r := range rows {
		l = append(l, r.Line)
	}
	return l
}

func rowErrors(rs []RowError) []string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Error())
	}
	return s
}

// wantFileError fails unless err is a *FileError with exactly this line and text.
func wantFileError(t *testing.T, err error, line int, text string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want a *FileError", err, err)
	}
	if fe.Line != line || fe.Error() != text {
		t.Errorf("FileError line %d %q\n          want line %d %q", fe.Line, fe.Error(), line, text)
	}
}

func TestErrorTexts(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{RowError{Line: 4, Field: "email", Reason: "not an email address"}, "line 4: email: not an email address"},
		{RowError{Line: 4, Reason: "something"}, "line 4: something"},
		{&FileError{Name: "m.csv", Line: 3, Reason: "bad"}, "m.csv:3: bad"},
		{&FileError{Name: "m.csv", Reason: "bad"}, "m.csv: bad"},
	}
	for _, c := range cases {
		if c.err.Error() != c.want {
			t.Errorf("%#v.Error() = %q, want %q", c.err, c.err.Error(), c.want)
		}
	}
}

func TestReadMembersCleanRow(t *testing.T) {
	file := memberHeader + "\n" +
		memberLine(map[string]string{"email": " Matti.M@Example.COM ", "country": "fi", "language": "SV", "first_name": "  Matti "}) + "\n"
	rows, rejected, err := readMembers(t, file)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("err %v, rejected %v", err, rejected)
	}
	want := MemberRow{
		Line: 2, ExternalID: "M1", FirstName: "Matti", LastName: "Meikäläinen", Email: "Matti.M@example.com",
		Phone: "+358401234567", PhoneSMS: yes(), Street: "Mannerheimintie 1", PostalCode: "00100", City: "Helsinki",
		Country: "FI", Language: "sv", EmailConsent: yes(), SMSConsent: no(),
	}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("rows = %+v\nwant %+v", rows, want)
	}
	if flag(rows[0].PostalObjection) != "nil" || flag(rows[0].AddressProtected) != "nil" || flag(rows[0].Deceased) != "nil" {
		t.Errorf("empty and absent flags = %s %s %s, want nil", flag(rows[0].PostalObjection), flag(rows[0].AddressProtected), flag(rows[0].Deceased))
	}
}

func TestReadMembersEmptyFieldsMeanNoChange(t *testing.T) {
	file := memberHeader + "\nM9,,,,,,,,,,,,\n"
	rows, rejected, err := readMembers(t, file)
	if err != nil || len(rejected) != 0 {
		t.Fatalf("err %v, rejected %v", err, rejected)
	}
	want := MemberRow{Line: 2, ExternalID: "M9"}
	if len(rows) != 1 || !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("rows = %+v, want %+v", rows, want)
	}
}

func TestReadMembersBOMAndCRLF(t *testing.T) {
	file := "\xEF\xBB\xBF" + memberHeader + "\r\n" +
		memberLine(map[string]string{"external_id": "M1"}) + "\r\n" +
		memberLine(map[string]string{"external_id": "M2", "postal_objection": "yes"}) + "\r\n"
	for name, r := range map[string]func() io.Reader{
		"whole":       func() io.Reader { return strings.NewReader(file) },
		"byte a read": func() io.Reader { return iotest.OneByteReader(strings.NewReader(file)) },
		"half reads":  func() io.Reader { return iotest.HalfReader(strings.NewReader(file)) },
	} {
		t.Run(name, func(t *testing.T) {
			var rows []MemberRow
			rejected, err := ReadMembers(r(), "members.csv", func(m MemberRow) error { rows = append(rows, m); return nil })
			if err != nil || len(rejected) != 0 {
				t.Fatalf("err %v, rejected %v", err, rejected)
			}
			if len(rows) != 2 || rows[0].ExternalID != "M1" || rows[1].ExternalID != "M2" {
				t.Fatalf("rows = %+v", rows)
			}
			if !reflect.DeepEqual(lines(rows), []int{2, 3}) {
				t.Errorf("lines = %v, want [2 3]", lines(rows))
			}
			if flag(rows[1].PostalObjection) != "true" || flag(rows[0].PostalObjection) != "nil" {
				t.Errorf("last column across CRLF = %s %s, want nil true", flag(rows[0].PostalObjection), flag(rows[1].PostalObjection))
			}
		})
	}
}

func TestReadMembersQuotedFieldsKeepLineNumbers(t *testing.T) {
	file := memberHeader + "\n" +
		memberLine(map[string]string{"external_id": "M1", "street": `"Rantatie 5, as. 3"`, "city": `"Espoo"`}) + "\n" + // line 2
		memberLine(map[string]string{"external_id": "M2", "street": "\"c/o Virtanen\nKoivutie 2\""}) + "\n" + // lines 3-4
		memberLine(map[string]string{"external_id": "M3", "first_name": "\"Anna \"\"Anni\"\"\r\nLiisa\""}) + "\n" + // lines 5-6
		"\n" + // line 7, blank: skipped
		memberLine(map[string]string{"external_id": "M4", "email": "no-at"}) + "\n" + // line 8
		memberLine(map[string]string{"external_id": "M5"}) + "\n" // line 9
	rows, rejected, err := readMembers(t, file)
	if err != nil {
		t.Fatal(err)
	}
	// A street may run over two lines (c/o); a first name may not.
	if !reflect.DeepEqual(lines(rows), []int{2, 3, 9}) {
		t.Errorf("lines = %v, want [2 3 9]", lines(rows))
	}
	if want := []string{"line 5: first_name: has a control character (U+000A)", "line 8: email: not an email address"}; !reflect.DeepEqual(rowErrors(rejected), want) {
		t.Errorf("rejected = %q, want %q", rowErrors(rejected), want)
	}
	if len(rows) == 3 {
		if rows[0].Street != "Rantatie 5, as. 3" || rows[0].City != "Espoo" {
			t.Errorf("row 2 = %q %q", rows[0].Street, rows[0].City)
		}
		if rows[1].Street != "c/o Virtanen\nKoivutie 2" {
			t.Errorf("row 3 street = %q", rows[1].Street)
		}
	}
}

func TestReadMembersOptionalColumns(t *testing.T) {
	t.Run("absent", func(t *testing.T) {
		rows, _, err := readMembers(t, memberHeader+"\n"+memberLine(nil)+"\n")
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %v err %v", rows, err)
		}
		if rows[0].AddressProtected != nil || rows[0].Deceased != nil {
			t.Errorf("absent optional columns = %s %s, want nil nil", flag(rows[0].AddressProtected), flag(rows[0].Deceased))
		}
	})
	t.Run("present", func(t *testing.T) {
		file := memberHeader + ",address_protected,deceased\n" +
			memberLine(map[string]string{"external_id": "M1", "address_protected": "yes", "deceased": "no"}, "address_protected", "deceased") + "\n" +
			memberLine(map[string]string{"external_id": "M2", "address_protected": "", "deceased": "YES"}, "address_protected", "deceased") + "\n"
		rows, rejected, err := readMembers(t, file)
		if err != nil || len(rejected) != 0 || len(rows) != 2 {
			t.Fatalf("rows %v rejected %v err %v", rows, rejected, err)
		}
		got := []string{flag(rows[0].AddressProtected), flag(rows[0].Deceased), flag(rows[1].AddressProtected), flag(rows[1].Deceased)}
		if want := []string{"true", "false", "nil", "true"}; !reflect.DeepEqual(got, want) {
			t.Errorf("flags = %v, want %v", got, want)
		}
	})
	t.Run("any order, one of them", func(t *testing.T) {
		file := "deceased," + memberHeader + "\nyes," + memberLine(nil) + "\n"
		rows, rejected, err := readMembers(t, file)
		if err != nil || len(rejected) != 0 || len(rows) != 1 {
			t.Fatalf("rows %v rejected %v err %v", rows, rejected, err)
		}
		if flag(rows[0].Deceased) != "true" || rows[0].ExternalID != "M1" || rows[0].AddressProtected != nil {
			t.Errorf("row = %+v deceased %s", rows[0], flag(rows[0].Deceased))
		}
	})
}

func TestReadMembersFlagValues(t *testing.T) {
	accepted := map[string]string{"yes": "true", "no": "false", "": "nil", "YES": "true", "Yes": "true", "NO": "false", " no ": "false"}
	for v, want := range accepted {
		for _, col := range []string{"email_consent", "sms_consent", "postal_objection", "address_protected", "deceased"} {
			file := memberHeader + ",address_protected,deceased\n" +
				memberLine(map[string]string{"email_consent": "", "sms_consent": "", col: v}, "address_protected", "deceased") + "\n"
			rows, rejected, err := readMembers(t, file)
			if err != nil || len(rejected) != 0 || len(rows) != 1 {
				t.Fatalf("%s=%q: rows %v rejected %v err %v", col, v, rows, rejected, err)
			}
			r := rows[0]
			got := map[string]*bool{"email_consent": r.EmailConsent, "sms_consent": r.SMSConsent, "postal_objection": r.PostalObjection,
				"address_protected": r.AddressProtected, "deceased": r.Deceased}
			for c, b := range got {
				w := "nil"
				if c == col {
					w = want
				}
				if flag(b) != w {
					t.Errorf("%s=%q: %s = %s, want %s", col, v, c, flag(b), w)
				}
			}
		}
	}
	for _, v := range []string{"y", "n", "1", "0", "true", "granted", "kyllä"} {
		file := memberHeader + "\n" + memberLine(map[string]string{"sms_consent": v}) + "\n"
		rows, rejected, err := readMembers(t, file)
		want := []string{fmt.Sprintf("line 2: sms_consent: %q is not yes, no or empty", v)}
		if err != nil || len(rows) != 0 || !reflect.DeepEqual(rowErrors(rejected), want) {
			t.Errorf("sms_consent=%q: rows %v rejected %q err %v; want %q", v, rows, rowErrors(rejected), err, want)
		}
	}
}

func TestReadMembersBadFields(t *testing.T) {
	long := strings.Repeat("x", 65)
	cases := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"empty external_id", map[string]string{"external_id": ""}, "line 2: external_id: is empty"},
		{"blank external_id", map[string]string{"external_id": "   "}, "line 2: external_id: is empty"},
		{"long external_id", map[string]string{"external_id": long}, "line 2: external_id: is longer than 64 characters"},
		{"display-name email", map[string]string{"email": `"Matti <m@x.fi>"`}, "line 2: email: not an email address"},
		{"email without top-level domain", map[string]string{"email": "m@localhost"}, `line 2: email: email domain "localhost" has no top-level part`},
		{"phone with a letter", map[string]string{"phone": "040 12x 4567"}, "line 2: phone: phone number has a character 'x' that is not a digit"},
		{"phone too short", map[string]string{"phone": "123"}, "line 2: phone: phone number is too short for a +358 (FI) number"},
		{"phone too long", map[string]string{"phone": "0401234567890123456"}, "line 2: phone: phone number is too long"},
		// The numbers, which the hand-written normaliser took for E.164 numbers.
		{"phone too short for Finland", map[string]string{"phone": "+358 44 82"}, "line 2: phone: phone number is too short for a +358 (FI) number"},
		{"phone of no country", map[string]string{"phone": "+999 0400560"}, "line 2: phone: phone number does not start with a country code in use"},
		{"phone in no Finnish range", map[string]string{"phone": "+358 75 1234 567"}, "line 2: phone: phone number is not in a range of the +358 (FI) numbering plan"},
		{"phone with an extension", map[string]string{"phone": "040 123 4567 ext 5"}, "line 2: phone: phone number has a character 'e' that is not a digit"},
		{"country name", map[string]string{"country": "Suomi"}, `line 2: country: "SUOMI" is not a two-letter country code`},
		{"country digit", map[string]string{"country": "F1"}, `line 2: country: "F1" is not a two-letter country code`},
		{"country three letters", map[string]string{"country": "fin"}, `line 2: country: "FIN" is not a two-letter country code`},
		{"postal code four digits", map[string]string{"postal_code": "0010"}, `line 2: postal_code: "0010" is not a Finnish postal code (five digits)`},
		{"postal code four digits, no country", map[string]string{"postal_code": "0010", "country": ""}, `line 2: postal_code: "0010" is not a Finnish postal code (five digits)`},
		{"postal code letters", map[string]string{"postal_code": "00A00"}, `line 2: postal_code: "00A00" is not a Finnish postal code (five digits)`},
		{"language", map[string]string{"language": "de"}, `line 2: language: unknown language "de" (want fi, sv or en)`},
		{"email_consent", map[string]string{"email_consent": "maybe"}, `line 2: email_consent: "maybe" is not yes, no or empty`},
		{"postal_objection", map[string]string{"postal_objection": "x"}, `line 2: postal_objection: "x" is not yes, no or empty`},
		// Every bad field of a row is reported at once, in column order.
		{"several", map[string]string{"email": "bad", "language": "de", "postal_code": "123", "sms_consent": "maybe"},
			"line 2: email: not an email address\nline 2: postal_code: \"123\" is not a Finnish postal code (five digits)\n" +
				"line 2: language: unknown language \"de\" (want fi, sv or en)\nline 2: sms_consent: \"maybe\" is not yes, no or empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := memberHeader + "\n" + memberLine(c.set) + "\n" + memberLine(map[string]string{"external_id": "OK"}) + "\n"
			rows, rejected, err := readMembers(t, file)
			if err != nil {
				t.Fatal(err)
			}
			if got := rowErrors(rejected); !reflect.DeepEqual(got, strings.Split(c.want, "\n")) {
				t.Errorf("rejected = %q\n      want %q", got, strings.Split(c.want, "\n"))
			}
			if len(rejected) == 1 && rejected[0].Line != 2 {
				t.Errorf("RowError.Line = %d, want 2", rejected[0].Line)
			}
			if len(rows) != 1 || rows[0].ExternalID != "OK" || rows[0].Line != 3 {
				t.Errorf("clean rows = %+v, want only OK on line 3", rows)
			}
		})
	}
}

// TestReadMembersPhoneForms checks that the trunk 0 of the international forms goes, and that
// PhoneSMS tells a mobile number from a landline, which is kept.
func TestReadMembersPhoneForms(t *testing.T) {
	cases := []struct {
		in, want string
		sms      bool
	}{
		{"+358 (0)50 960 0348", "+358509600348", true},
		{"+358 0509600348", "+358509600348", true},
		{"00358 (0)40 123 4567", "+358401234567", true},
		{"09 1234 567", "+35891234567", false},
		{"+358 9 1234 567", "+35891234567", false},
		{"0800 12345", "+35880012345", false},
		{"+46 70 123 45 67", "+46701234567", true},
	}
	for _, c := range cases {
		rows, rejected, err := readMembers(t, memberHeader+"\n"+memberLine(map[string]string{"phone": c.in})+"\n")
		if err != nil || len(rejected) != 0 || len(rows) != 1 {
			t.Fatalf("%q: rows %v rejected %v err %v", c.in, rows, rejected, err)
		}
		if rows[0].Phone != c.want || flag(rows[0].PhoneSMS) != fmt.Sprint(c.sms) {
			t.Errorf("%q: phone %q, PhoneSMS %s; want %q, %v", c.in, rows[0].Phone, flag(rows[0].PhoneSMS), c.want, c.sms)
		}
	}
}

func TestReadMembersForeignAddress(t *testing.T) {
	file := memberHeader + "\n" + memberLine(map[string]string{"postal_code": "SW1A 1AA", "country": "gb", "city": "London"}) + "\n"
	rows, rejected, err := readMembers(t, file)
	if err != nil || len(rejected) != 0 || len(rows) != 1 {
		t.Fatalf("rows %v rejected %v err %v", rows, rejected, err)
	}
	if rows[0].PostalCode != "SW1A 1AA" || rows[0].Country != "GB" {
		t.Errorf("row = %+v", rows[0])
	}
}

func TestReadMembersDuplicateExternalID(t *testing.T) {
	file := memberHeader + "\n" +
		memberLine(map[string]string{"external_id": "M1"}) + "\n" + // 2
		memberLine(map[string]string{"external_id": "M2"}) + "\n" + // 3
		memberLine(map[string]string{"external_id": "M1", "city": "Turku"}) + "\n" + // 4
		memberLine(map[string]string{"external_id": "M3", "email": "bad"}) + "\n" + // 5: rejected, so not "seen"
		memberLine(map[string]string{"external_id": "M3"}) + "\n" + // 6
		memberLine(map[string]string{"external_id": " M2 "}) + "\n" // 7: trimmed, so a duplicate
	rows, rejected, err := readMembers(t, file)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`line 4: external_id: "M1" already appears on line 2`,
		"line 5: email: not an email address",
		`line 7: external_id: "M2" already appears on line 3`,
	}
	if !reflect.DeepEqual(rowErrors(rejected), want) {
		t.Errorf("rejected = %q\n      want %q", rowErrors(rejected), want)
	}
	if !reflect.DeepEqual(lines(rows), []int{2, 3, 6}) || rows[0].City != "Helsinki" {
		t.Errorf("rows = %+v, want lines 2 3 6 with the first M1", rows)
	}
}

func TestReadMembersHeaderProblems(t *testing.T) {
	row := memberLine(nil) + "\n" // a good data row after the header: it must never reach the callback
	cases := []struct {
		name, file, want string
	}{
		{"empty file", "", "members.csv:1: the file is empty; expected a header row"},
		{"BOM only", "\xEF\xBB\xBF", "members.csv:1: the file is empty; expected a header row"},
		{"blank lines only", "\n\r\n\n", "members.csv:1: the file is empty; expected a header row"},
		{"missing column", strings.Replace(memberHeader, ",city", "", 1) + "\n" + row, `members.csv:1: missing column "city"`},
		{"unknown column", memberHeader + ",shoe_size\n" + row, `members.csv:1: unknown column "shoe_size" (expected ` + memberHeader + `)`},
		{"short file", "x\n", `members.csv:1: unknown column "x" (expected ` + memberHeader + `)`},
		{"capitalised column", strings.Replace(memberHeader, "email,", "Email,", 1) + "\n" + row, `members.csv:1: unknown column "Email" (expected ` + memberHeader + `)`},
		{"empty column", memberHeader + ",\n" + row, `members.csv:1: unknown column "" (expected ` + memberHeader + `)`},
		{"second BOM", "\xEF\xBB\xBF\xEF\xBB\xBF" + memberHeader + "\n" + row, `members.csv:1: unknown column "\ufeffexternal_id" (expected ` + memberHeader + `)`},
		{"duplicate column", memberHeader + ",email\n" + row, `members.csv:1: column "email" appears twice`},
		{"duplicate optional column", memberHeader + ",deceased,deceased\n" + row, `members.csv:1: column "deceased" appears twice`},
		{"non-UTF-8 header", memberHeader + ",dec\xffeased\n" + row, "members.csv:1: column 14 of the header is not valid UTF-8: " + hintUTF8},
		{"no header, data first", row + row, `members.csv:1: unknown column "M1" (expected ` + memberHeader + `)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			called := false
			rejected, err := ReadMembers(strings.NewReader(c.file), "members.csv", func(MemberRow) error {
				called = true
				return nil
			})
			wantFileError(t, err, 1, c.want)
			if called || rejected != nil {
				t.Errorf("callback called %v, rejected %v; want neither", called, rejected)
			}
		})
	}
}

func TestReadMembersHeaderOnly(t *testing.T) {
	rows, rejected, err := readMembers(t, "\xEF\xBB\xBF"+memberHeader+"\r\n")
	if err != nil || rows != nil || rejected != nil {
		t.Errorf("rows %v rejected %v err %v; want nothing", rows, rejected, err)
	}
}

// A file error stops the read, but the rows before it have already been handed to the callback: the
// caller must import inside a transaction and roll it back on a *FileError.
func TestReadMembersFileErrorAfterRowsWerePassed(t *testing.T) {
	cases := []struct {
		name  string
		bad   string // row on line 4
		line  int
		error string
	}{
		{"non-UTF-8 byte", memberLine(map[string]string{"external_id": "M3", "city": "Hels\xffinki"}), 4,
			"members.csv:4: field 8 (column 78) is not valid UTF-8: " + hintUTF8},
		{"too few fields", "M3,Anna", 4, "members.csv:4: wrong number of fields (the header has a different count)"},
		{"too many fields", memberLine(map[string]string{"external_id": "M3"}) + ",extra", 4, "members.csv:4: wrong number of fields (the header has a different count)"},
		{"bare quote", memberLine(map[string]string{"external_id": "M3", "first_name": `An"na`}), 4, "members.csv:4: " + csv.ErrBareQuote.Error()},
		{"unterminated quote", memberLine(map[string]string{"external_id": "M3", "street": `"Koivutie 2`}), 4, "members.csv:4: " + csv.ErrQuote.Error()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := memberHeader + "\n" +
				memberLine(map[string]string{"external_id": "M1"}) + "\n" + // 2
				memberLine(map[string]string{"external_id": "M2", "language": "xx"}) + "\n" + // 3: row error
				c.bad + "\n" +
				memberLine(map[string]string{"external_id": "M4"}) + "\n"
			rows, rejected, err := readMembers(t, file)
			wantFileError(t, err, c.line, c.error)
			if !reflect.DeepEqual(lines(rows), []int{2}) {
				t.Errorf("rows passed before the file error: lines %v, want [2]", lines(rows))
			}
			if want := []string{`line 3: language: unknown language "xx" (want fi, sv or en)`}; !reflect.DeepEqual(rowErrors(rejected), want) {
				t.Errorf("rejected = %q, want %q", rowErrors(rejected), want)
			}
		})
	}
}

func TestReadMembersNonUTF8InMultiLineField(t *testing.T) {
	file := memberHeader + "\n" +
		memberLine(map[string]string{"external_id": "M1", "street": "\"c/o Virtanen\nKoivutie\xff 2\""}) + "\n"
	rows, _, err := readMembers(t, file)
	wantFileError(t, err, 2, "members.csv:2: field 6 (column 54) is not valid UTF-8: "+hintUTF8)
	if rows != nil {
		t.Errorf("rows = %v", rows)
	}
}

func TestReadMembersCallbackErrorReturnedAsIs(t *testing.T) {
	stop := errors.New("database is gone")
	file := memberHeader + "\n" +
		memberLine(map[string]string{"external_id": "M1", "phone": "x"}) + "\n" +
		memberLine(map[string]string{"external_id": "M2"}) + "\n" +
		memberLine(map[string]string{"external_id": "M3"}) + "\n" +
		memberLine(map[string]string{"external_id": "M4"}) + "\n"
	var seen []string
	rejected, err := ReadMembers(strings.NewReader(file), "members.csv", func(m MemberRow) error {
		seen = append(seen, m.ExternalID)
		if m.ExternalID == "M3" {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("err = %v (%T), want the callback's own error", err, err)
	}
	if !reflect.DeepEqual(seen, []string{"M2", "M3"}) {
		t.Errorf("callback saw %v, want [M2 M3] and nothing after the error", seen)
	}
	if want := []string{"line 2: phone: phone number has a character 'x' that is not a digit"}; !reflect.DeepEqual(rowErrors(rejected), want) {
		t.Errorf("rejected = %q, want %q", rowErrors(rejected), want)
	}
}

func TestReadMembersReaderError(t *testing.T) {
	disk := errors.New("disk failure")
	// A reader's own error is not the file's fault: it comes back as it is (not a *FileError), so
	// that an upload over its size limit is answered as such.
	_, err := ReadMembers(iotest.ErrReader(disk), "members.csv", func(MemberRow) error { return nil })
	var fe *FileError
	if !errors.Is(err, disk) || errors.As(err, &fe) || err.Error() != "read members.csv: disk failure" {
		t.Fatalf("err = %v (%T), want the reader's error", err, err)
	}

	// An error after the header and one row.
	r := io.MultiReader(strings.NewReader(memberHeader+"\n"+memberLine(nil)+"\n"), iotest.ErrReader(disk))
	var n int
	_, err = ReadMembers(r, "members.csv", func(MemberRow) error { n++; return nil })
	if !errors.Is(err, disk) {
		t.Errorf("err = %v, want the reader's error", err)
	}
	if n != 1 {
		t.Errorf("rows before the read error = %d, want 1", n)
	}
}

func TestBOMSkipper(t *testing.T) {
	cases := map[string]string{
		"":                          "",
		"a":                         "a",
		"ab":                        "ab",
		"\xEF\xBB":                  "\xEF\xBB",
		"\xEF\xBB\xBF":              "",
		"\xEF\xBB\xBFa,b\n":         "a,b\n",
		"\xEF\xBB\xBF\xEF\xBB\xBFx": "\xEF\xBB\xBFx", // only one mark is dropped
		"abc,def\n":                 "abc,def\n",
	}
	for in, want := range cases {
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"plain": func(r io.Reader) io.Reader { return r },
			"one":   iotest.OneByteReader,
		} {
			got, err := io.ReadAll(newBOMSkipper(wrap(strings.NewReader(in))))
			if err != nil || string(got) != want {
				t.Errorf("%s: bomSkipper(%q) = %q, %v; want %q", name, in, got, err, want)
			}
		}
	}
}

const purchaseHeader = "external_id,purchased_at,amount_eur,store,order_ref"

func TestParseEuros(t *testing.T) {
	accepted := map[string]int64{"49.90": 4990, "49.9": 4990, "5": 500, "0.5": 50, "0.05": 5, "0": 0, "0.00": 0,
		"007.10": 710, "1000000000000": 100000000000000}
	for in, want := range accepted {
		if got, ok := parseEuros(in); !ok || got != want {
			t.Errorf("parseEuros(%q) = %d, %v; want %d, true", in, got, ok, want)
		}
	}
	for _, in := range []string{"4,90", "-1", "1.234", "", ".5", "5.", "+5", "1e3", "abc", "1 000", "1.2.3", "٥", "1000000000001", "99999999999999999999"} {
		if got, ok := parseEuros(in); ok {
			t.Errorf("parseEuros(%q) = %d, true; want refused", in, got)
		}
	}
}

func TestReadPurchases(t *testing.T) {
	file := "\xEF\xBB\xBF" + purchaseHeader + "\r\n" +
		"M1,2026-03-01T14:05:00+02:00,49.90,Kamppi,A-1\r\n" + // 2
		"M1,2026-03-02T10:00:00Z,5,,A-2\r\n" + // 3
		"M2,2026-03-03T10:00:00.5+03:00, 0.5 ,Sello,A-3\r\n" + // 4
		`M2,2026-03-03T10:00:00+02:00,"4,90",Sello,A-4` + "\r\n" + // 5
		"M2,2026-03-03T10:00:00+02:00,-1,Sello,A-5\r\n" + // 6
		"M2,2026-03-03T10:00:00+02:00,1.234,Sello,A-6\r\n" + // 7
		"M2,2026-03-03T10:00:00+02:00,,Sello,A-7\r\n" + // 8
		"M2,2026-03-03 10:00,1.00,Sello,A-8\r\n" + // 9
		"M2,2026-03-03T10:00:00,1.00,Sello,A-9\r\n" + // 10
		",2026-03-03T10:00:00Z,1.00,Sello,A-10\r\n" + // 11
		"M3,2026-03-03T10:00:00Z,1.00,Sello,\r\n" + // 12
		"M3,2026-03-04T10:00:00Z,2.00,Itis,A-1\r\n" + // 13: duplicate order_ref
		"M3,2026-03-04T10:00:00Z,2.00,Itis,A-11\r\n" // 14
	var rows []PurchaseRow
	rejected, err := ReadPurchases(strings.NewReader(file), "purchases.csv", func(p PurchaseRow) error {
		rows = append(rows, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []PurchaseRow{
		{Line: 2, ExternalID: "M1", PurchasedAt: time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC), AmountCents: 4990, Store: "Kamppi", OrderRef: "A-1"},
		{Line: 3, ExternalID: "M1", PurchasedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), AmountCents: 500, Store: "", OrderRef: "A-2"},
		{Line: 4, ExternalID: "M2", PurchasedAt: time.Date(2026, 3, 3, 7, 0, 0, 5e8, time.UTC), AmountCents: 50, Store: "Sello", OrderRef: "A-3"},
		{Line: 14, ExternalID: "M3", PurchasedAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), AmountCents: 200, Store: "Itis", OrderRef: "A-11"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %+v\nwant %+v", rows, want)
	}
	for i := range want {
		g, w := rows[i], want[i]
		if g.Line != w.Line || g.ExternalID != w.ExternalID || !g.PurchasedAt.Equal(w.PurchasedAt) || g.AmountCents != w.AmountCents ||
			g.Store != w.Store || g.OrderRef != w.OrderRef {
			t.Errorf("row %d = %+v\n      want %+v", i, g, w)
		}
	}
	if _, off := rows[0].PurchasedAt.Zone(); off != 2*3600 {
		t.Errorf("purchased_at offset = %d s, want the file's +02:00 kept", off)
	}
	wantRejected := []string{
		`line 5: amount_eur: "4,90" is not an amount like 49.90`,
		`line 6: amount_eur: "-1" is not an amount like 49.90`,
		`line 7: amount_eur: "1.234" is not an amount like 49.90`,
		`line 8: amount_eur: "" is not an amount like 49.90`,
		`line 9: purchased_at: "2026-03-03 10:00" is not an RFC 3339 time such as 2026-03-01T14:05:00+02:00`,
		`line 10: purchased_at: "2026-03-03T10:00:00" is not an RFC 3339 time such as 2026-03-01T14:05:00+02:00`,
		`line 11: external_id: is empty`,
		`line 12: order_ref: is empty`,
		`line 13: order_ref: "A-1" already appears on line 2`,
	}
	if !reflect.DeepEqual(rowErrors(rejected), wantRejected) {
		t.Errorf("rejected =\n%s\nwant\n%s", strings.Join(rowErrors(rejected), "\n"), strings.Join(wantRejected, "\n"))
	}
}

func TestReadPurchasesFileErrors(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"empty", "", "purchases.csv:1: the file is empty; expected a header row"},
		{"member header", memberHeader + "\n", `purchases.csv:1: unknown column "first_name" (expected ` + purchaseHeader + `)`},
		{"missing order_ref", "external_id,purchased_at,amount_eur,store\n", `purchases.csv:1: missing column "order_ref"`},
		{"unquoted comma amount", purchaseHeader + "\nM1,2026-03-01T14:05:00+02:00,4,90,Kamppi,A-1\n", "purchases.csv:2: wrong number of fields (the header has a different count)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			called := false
			_, err := ReadPurchases(strings.NewReader(c.file), "purchases.csv", func(PurchaseRow) error { called = true; return nil })
			line := 1
			if c.name == "unquoted comma amount" {
				line = 2
			}
			wantFileError(t, err, line, c.want)
			if called {
				t.Error("callback called")
			}
		})
	}
}

func TestReadPurchasesCallbackErrorReturnedAsIs(t *testing.T) {
	stop := errors.New("stop")
	file := purchaseHeader + "\nM1,2026-03-01T14:05:00+02:00,49.90,Kamppi,A-1\nM1,2026-03-01T14:05:00+02:00,49.90,Kamppi,A-2\n"
	n := 0
	_, err := ReadPurchases(strings.NewReader(file), "purchases.csv", func(PurchaseRow) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err %v after %d rows; want the callback's error after 1", err, n)
	}
}

const suppressionHeader = "channel,value"

func TestReadSuppressions(t *testing.T) {
	file := "\xEF\xBB\xBF" + suppressionHeader + "\r\n" +
		"email,Matti.M@Example.COM\r\n" + // 2
		"EMAIL, anna@example.fi \r\n" + // 3
		"sms,040 123 4567\r\n" + // 4
		"sms,+46 70 123 45 67\r\n" + // 5
		"postal,Virtanen|Mannerheimintie 1|00100\r\n" + // 6
		"postal, virtanen | Mannerheimintie 1 A 3 | 00 100 \r\n" + // 7
		"postal,Virtanen|Mannerheimintie 1\r\n" + // 8
		"postal,Virtanen|Mannerheimintie 1|0010\r\n" + // 9
		"postal,Virtanen|Mannerheimintie 1|00100|FI\r\n" + // 10
		"postal, |Mannerheimintie 1|00100\r\n" + // 11
		"postal,Virtanen||00100\r\n" + // 12
		"fax,+358401234567\r\n" + // 13
		"email,Matti <m@x.fi>\r\n" + // 14
		"sms,12345\r\n" + // 15
		"email,\r\n" + // 16
		",m@x.fi\r\n" + // 17
		"sms,+358 (0)50 960 0348\r\n" + // 18
		"sms,09 1234 567\r\n" + // 19: a landline is suppressed like any number
		"sms,+358 44 82\r\n" // 20
	var rows []SuppressionRow
	rejected, err := ReadSuppressions(strings.NewReader(file), "ban.csv", func(s SuppressionRow) error {
		rows = append(rows, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []SuppressionRow{
		{Line: 2, Channel: campaigns.Email, Value: "Matti.M@example.com"},
		{Line: 3, Channel: campaigns.Email, Value: "anna@example.fi"},
		{Line: 4, Channel: campaigns.SMS, Value: "+358401234567"},
		{Line: 5, Channel: campaigns.SMS, Value: "+46701234567"},
		{Line: 6, Channel: campaigns.Postal, Value: "Virtanen|Mannerheimintie 1|00100"},
		{Line: 7, Channel: campaigns.Postal, Value: "virtanen | Mannerheimintie 1 A 3 | 00 100"},
		{Line: 18, Channel: campaigns.SMS, Value: "+358509600348"},
		{Line: 19, Channel: campaigns.SMS, Value: "+35891234567"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows =\n%+v\nwant\n%+v", rows, want)
	}
	const postalReason = "postal key must be LAST_NAME|STREET|POSTAL_CODE with a five-digit postal code"
	wantRejected := []string{
		"line 8: value: " + postalReason,
		"line 9: value: " + postalReason,
		"line 10: value: " + postalReason,
		"line 11: value: " + postalReason,
		"line 12: value: " + postalReason,
		`line 13: channel: unknown channel "fax" (want email, sms or postal)`,
		"line 14: value: not an email address",
		"line 15: value: phone number is not in a range of the +358 (FI) numbering plan",
		"line 16: value: is empty",
		`line 17: channel: unknown channel "" (want email, sms or postal)`,
		"line 20: value: phone number is too short for a +358 (FI) number",
	}
	if !reflect.DeepEqual(rowErrors(rejected), wantRejected) {
		t.Errorf("rejected =\n%s\nwant\n%s", strings.Join(rowErrors(rejected), "\n"), strings.Join(wantRejected, "\n"))
	}
}

func TestReadSuppressionsFileErrors(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"empty", "", "ban.csv:1: the file is empty; expected a header row"},
		{"reason column", "channel,value,reason\n", `ban.csv:1: unknown column "reason" (expected channel,value)`},
		{"missing value", "channel\n", `ban.csv:1: missing column "value"`},
		{"duplicate", "channel,value,channel\n", `ban.csv:1: column "channel" appears twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadSuppressions(strings.NewReader(c.file), "ban.csv", func(SuppressionRow) error { return nil })
			wantFileError(t, err, 1, c.want)
		})
	}
	// Rows before a bad byte were passed on.
	var n int
	_, err := ReadSuppressions(strings.NewReader(suppressionHeader+"\nemail,a@b.fi\nemail,\xff@b.fi\n"), "ban.csv", func(SuppressionRow) error { n++; return nil })
	wantFileError(t, err, 3, "ban.csv:3: field 2 (column 7) is not valid UTF-8: "+hintUTF8)
	if n != 1 {
		t.Errorf("rows before the file error = %d, want 1", n)
	}
}

const hintUTF8 = `the file seems to be saved as Windows-1252 (Excel's "CSV (Comma delimited)"); save it as "CSV UTF-8" and import it again`

// Excel in a Finnish locale saves "CSV" with semicolons, a byte order mark and CRLF line ends: such
// a file is read as it is meant.
func TestReadMembersFromFinnishExcel(t *testing.T) {
	file := "\xef\xbb\xbfexternal_id;first_name;last_name;email;phone;street;postal_code;city;country;language;email_consent;sms_consent;postal_objection\r\n" +
		"X1;Päivi;Hämäläinen;paivi@example.com;040 123 4567;\"Puistokatu 2, A 3\";20100;TURKU;FI;fi;yes;no;no\r\n" +
		"X2;Åke;Öberg;;;Storgatan 5;65100;VASA;FI;sv;;;\r\n"
	var got []MemberRow
	rejected, err := ReadMembers(strings.NewReader(file), "excel.csv", func(m MemberRow) error {
		got = append(got, m)
		return nil
	})
	if err != nil || len(rejected) != 0 || len(got) != 2 {
		t.Fatalf("read: %v, rejected %v, rows %d", err, rejected, len(got))
	}
	if got[0].FirstName != "Päivi" || got[0].Street != "Puistokatu 2, A 3" || got[0].Line != 2 || got[1].LastName != "Öberg" || got[1].City != "VASA" {
		t.Fatalf("rows: %+v", got)
	}
	// The same file saved in the Windows code page is refused whole, with what to do.
	cp1252 := strings.NewReplacer("ä", "\xe4", "Ä", "\xc4", "Ö", "\xd6", "Å", "\xc5").Replace(file)
	_, err = ReadMembers(strings.NewReader(cp1252), "excel.csv", func(MemberRow) error { return nil })
	wantFileError(t, err, 2, "excel.csv:2: field 2 (column 4) is not valid UTF-8: "+hintUTF8)
}

func TestPurchaseRowReportsEveryProblem(t *testing.T) {
	file := "external_id,purchased_at,amount_eur,store,order_ref\nM1,yesterday,4.999,Kamppi,\nM2,2026-03-01T14:05:00+02:00,5,Kamppi,O-2\n"
	var got []PurchaseRow
	rejected, err := ReadPurchases(strings.NewReader(file), "p.csv", func(p PurchaseRow) error {
		got = append(got, p)
		return nil
	})
	if err != nil || len(got) != 1 || got[0].OrderRef != "O-2" {
		t.Fatalf("read: %v, rows %+v", err, got)
	}
	want := []string{"line 2: order_ref: is empty",
		`line 2: purchased_at: "yesterday" is not an RFC 3339 time such as 2026-03-01T14:05:00+02:00`,
		`line 2: amount_eur: "4.999" is not an amount like 49.90`}
	if g := rowErrors(rejected); !reflect.DeepEqual(g, want) {
		t.Fatalf("rejected = %q\nwant %q", g, want)
	}
	if n := campaigns.RejectedRows(rejected); n != 1 {
		t.Fatalf("%d rows rejected, want 1 row with three problems", n)
	}
}

// A NUL or another control character, or a value longer than the register takes, rejects the row
// naming the column; the rest of the file is imported.
func TestReadMembersFieldLimits(t *testing.T) {
	file := memberHeader + "\n" +
		memberLine(map[string]string{"external_id": "N1", "first_name": "An\x00na"}) + "\n" +
		memberLine(map[string]string{"external_id": "N2", "city": strings.Repeat("Å", 101)}) + "\n" +
		memberLine(map[string]string{"external_id": "N3", "last_name": "Kivi\x1b[31m"}) + "\n" +
		memberLine(map[string]string{"external_id": "N4", "street": strings.Repeat("x", 200)}) + "\n"
	rows, rejected, err := readMembers(t, file)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"line 2: first_name: has a control character (U+0000)", "line 3: city: is longer than 100 characters",
		"line 4: last_name: has a control character (U+001B)"}
	if !reflect.DeepEqual(rowErrors(rejected), want) || len(rows) != 1 || rows[0].ExternalID != "N4" {
		t.Fatalf("rejected %q, rows %+v", rowErrors(rejected), rows)
	}
}
