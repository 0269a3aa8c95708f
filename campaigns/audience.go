package campaigns

// Audience is who a campaign would reach if it were selected now, as the console shows it before
// the campaign is scheduled. The store counts it with the scheduler's own selection (the segment,
// the member_reach rules, the frequency cap and the strategy) and records nothing, so a run selected
// right after records these numbers: Reachable deliveries per channel, and Skipped as the run's
// skips. A run selected later differs by what changed in between (members, consents, suppressions,
// other campaigns' sends counting towards the cap).
type Audience struct {
	CampaignID int64 `json:"campaign_id"`
	// Members counts the members in the register, in the segment or not.
	Members int64 `json:"members"`
	// Segment counts the members of the campaign's segment (all members when it has no condition).
	Segment int64 `json:"segment"`
	// Channels has an entry for each of the campaign's channels.
	Channels map[Channel]ChannelAudience `json:"channels"`
}

// ChannelAudience is a campaign's audience on one channel. Reachable counts the members of the
// segment who would get a delivery on it; Skipped counts by reason those it was tried for who would
// be left out (nil when none would). With the strategy first, a channel is tried only for the members
// whom no channel before it in the campaign reaches: a member reached by an earlier channel counts on
// neither side of a later one.
type ChannelAudience struct {
	Reachable int64                `json:"reachable"`
	Skipped   map[SkipReason]int64 `json:"skipped_by_reason,omitempty"`
}
