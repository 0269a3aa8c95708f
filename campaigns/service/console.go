package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/csvfile"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/print"
)

// LetterRenderer draws postal letters as the print house gets them, one A4 page a letter, and writes
// the PDF to out without writing a print batch (worker/print's Renderer). A letter it cannot print
// is reported with a *print.LetterErrors.
type LetterRenderer interface {
	Render(ctx context.Context, out io.Writer, letters []worker.Letter) error
}

// Member returns everything held about a member, by external id, as ExportMember does, for the
// console's member page: the profile, the consent history, purchases, deliveries, coupons,
// suppressions and the member's audit trail. Viewing is audited for the member as members.view.
// An unknown member is ErrNotFound. Privacy officers.
func (s *Service) Member(ctx context.Context, actor campaigns.User, externalID string) (*campaigns.MemberExport, error) {
	if err := allow(actor, "view a member", campaigns.RolePrivacy); err != nil {
		return nil, err
	}
	if err := checkText("external_id", externalID); err != nil {
		return nil, err
	}
	return s.store.ExportMember(ctx, externalID, entry(actor, campaigns.AuditMemberView))
}

// CorrectableFields are the member fields CorrectMember corrects: those of the member file, but for
// the external id (the key) and the consents (SetConsent records those). address_protected and
// deceased take "yes" or "no".
var CorrectableFields = []string{"first_name", "last_name", "email", "phone", "street", "postal_code",
	"city", "country", "language", "address_protected", "deceased"}

// correctionFile names a correction where an import names its file: in the audit log's
// members.update entry.
const correctionFile = "manual correction"

// CorrectMember sets one field of a member (one of CorrectableFields) to value, checked exactly as
// the member file's import checks it (an email must be an address, a phone is normalised to E.164, a
// postal code in Finland has five digits, ...). The correction goes through the import, so it is
// recorded as an import's change is: a members.update audit entry with the old and new values (source
// customer-service, file "manual correction"), the register's keyed hashes rewritten, and beside
// it a members.correct entry naming the field, never the value. A value that is wrong, or empty (a
// correction does not remove a value), is ErrInvalid naming the field; an unknown field ErrInvalid
// naming "field". An unknown member is ErrNotFound: a correction never creates a member. Privacy
// officers.
func (s *Service) CorrectMember(ctx context.Context, actor campaigns.User, externalID, field, value string) error {
	if err := allow(actor, "correct a member", campaigns.RolePrivacy); err != nil {
		return err
	}
	if err := checkText("external_id", externalID); err != nil {
		return err
	}
	if !slices.Contains(CorrectableFields, field) {
		return campaigns.Invalid("field", fmt.Sprintf("%q cannot be corrected here (one of %s)", field, strings.Join(CorrectableFields, ", ")))
	}
	if strings.TrimSpace(value) == "" {
		return campaigns.Invalid(field, "is empty: a correction sets a value, it cannot remove one")
	}
	m, err := s.store.MemberByExternalID(ctx, externalID)
	if err != nil {
		return err
	}
	row, err := csvfile.MemberField(externalID, field, value, m.Country)
	if err != nil {
		return err
	}
	rows := func(each func(campaigns.MemberRow) error) ([]campaigns.RowError, error) {
		return nil, each(row)
	}
	a := entry(actor, campaigns.AuditMemberCorrect).With("field", field).With("file", correctionFile).With("source", campaigns.SourceCustomerService)
	a.MemberID, a.MemberExternalID = m.ID, m.ExternalID
	res, err := s.store.ImportMembers(ctx, rows, campaigns.SourceCustomerService, a)
	if err != nil {
		return err
	}
	switch {
	case res.Rejected > 0:
		// The member was erased since it was looked up: the import refuses an erased member's row.
		return campaigns.Errorf(campaigns.ErrNotFound, "no member with external id %q (erased)", externalID)
	case res.Imported > 0:
		// Cannot happen while the member exists; said rather than hidden should it ever.
		return fmt.Errorf("correct member %d: the correction created a member", m.ID)
	}
	return nil
}

// sampleMember is the synthetic member of sample previews and test sends: templates.SampleData's
// name and address for the campaign's kind in lang, with the email address and number given.
func sampleMember(kind campaigns.Kind, lang campaigns.Language, email, number string) campaigns.Member {
	sample := templates.SampleData(string(kind), lang)
	return campaigns.Member{FirstName: sample.FirstName, LastName: sample.LastName, Email: email, Phone: number, Street: sample.Street,
		PostalCode: sample.PostalCode, City: sample.City, Country: sample.Country, Language: lang}
}

// PreviewSample returns the message the campaign sends on the channel in the language, rendered for
// the synthetic sample member of test sends (templates.SampleData: no one's personal data, so
// nothing is audited) with a placeholder coupon code: subject, text and HTML, and for SMS its
// encoding and segments. WouldSend is true: a sample has no consents to check. An unknown channel or
// language is ErrInvalid naming it. Marketers and privacy officers.
func (s *Service) PreviewSample(ctx context.Context, actor campaigns.User, id int64, ch campaigns.Channel, lang campaigns.Language) (Preview, error) {
	if err := allow(actor, "preview a campaign", campaigns.RoleMarketer, campaigns.RolePrivacy); err != nil {
		return Preview{}, err
	}
	if _, err := campaigns.ParseChannel(string(ch)); err != nil {
		return Preview{}, campaigns.Invalid("channel", err.Error())
	}
	if _, err := campaigns.ParseLanguage(string(lang)); err != nil {
		return Preview{}, campaigns.Invalid("language", err.Error())
	}
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	msg, err := s.composer.Compose(campaigns.Run{CampaignID: c.ID, Spec: c.Spec},
		campaigns.Delivery{Channel: ch, Member: sampleMember(c.Spec.Kind, lang, "", "")}, s.previewCoupon(c.Spec), false)
	if err != nil {
		return Preview{}, fmt.Errorf("preview campaign %d: %w", id, err)
	}
	return preview(msg, lang), nil
}

// hiddenStreet stands in for a member's street in a letter previewed by a user who may not see
// members' contact details.
const hiddenStreet = "[street hidden]"

// PreviewLetter returns the campaign's letter as the print house would get it: a one-page A4 PDF,
// drawn by the same code as the print batches, with a placeholder coupon code. externalID "" is the
// synthetic sample member in lang (nothing audited); otherwise it is the member's letter, in lang
// when given, else in the member's own language, audited for the member as a preview is. As in
// Preview, the member's contact details are shown to privacy officers and admins only: for a
// marketer the street in the address window reads "[street hidden]". A letter that cannot be printed
// (a character the fonts cannot draw, an address too long for the window, a text longer than a
// page) is ErrInvalid saying why; an unknown language ErrInvalid naming "language". Marketers and
// privacy officers.
func (s *Service) PreviewLetter(ctx context.Context, actor campaigns.User, id int64, externalID string, lang campaigns.Language) ([]byte, error) {
	if err := allow(actor, "preview a campaign", campaigns.RoleMarketer, campaigns.RolePrivacy); err != nil {
		return nil, err
	}
	if s.cfg.Letters == nil {
		return nil, errors.New("letter previews are not available: the service has no letter renderer")
	}
	if lang != "" || externalID == "" {
		if _, err := campaigns.ParseLanguage(string(lang)); err != nil {
			return nil, campaigns.Invalid("language", err.Error())
		}
	}
	if err := checkText("member", externalID); err != nil {
		return nil, err
	}
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	var member campaigns.Member
	shown := actor.Role == campaigns.RolePrivacy || actor.Role == campaigns.RoleAdmin
	if externalID == "" {
		member = sampleMember(c.Spec.Kind, lang, "", "")
	} else {
		if member, err = s.store.MemberByExternalID(ctx, externalID); err != nil {
			return nil, err
		}
		if lang != "" {
			member.Language = lang
		}
		if !shown {
			member.Street = hiddenStreet
		}
	}
	coupon := s.previewCoupon(c.Spec)
	msg, err := s.composer.Compose(campaigns.Run{CampaignID: c.ID, Spec: c.Spec}, campaigns.Delivery{Channel: campaigns.Postal, Member: member}, coupon, false)
	if err != nil {
		return nil, fmt.Errorf("preview letter of campaign %d: %w", id, err)
	}
	letter := worker.Letter{Member: member, Content: msg.Content}
	if coupon != nil {
		letter.CouponCode = coupon.Code
	}
	var pdf bytes.Buffer
	err = s.cfg.Letters.Render(ctx, &pdf, []worker.Letter{letter})
	var unprintable *print.LetterErrors
	if errors.As(err, &unprintable) && len(unprintable.Letters) > 0 {
		return nil, campaigns.Errorf(campaigns.ErrInvalid, "the letter cannot be printed: %s", unprintable.Letters[0].Reason)
	}
	if err != nil {
		return nil, fmt.Errorf("preview letter of campaign %d: %w", id, err)
	}
	if externalID != "" {
		a := entry(actor, campaigns.AuditCampaignPreview).With("campaign_id", id).With("channel", campaigns.Postal).
			With("format", "pdf").With("contact_shown", shown)
		a.MemberID = member.ID
		if err := s.store.Audit(ctx, a); err != nil {
			return nil, err
		}
	}
	return pdf.Bytes(), nil
}
