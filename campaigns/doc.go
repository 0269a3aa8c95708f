// Package campaigns is the domain of dispatch: members of the loyalty register and their consents,
// campaigns, runs, deliveries and coupons, and the kinds of error the rest of the program tells apart.
//
// It depends on the standard library only. The store (campaigns/postgres), the HTTP edge
// (campaigns/api), the scheduler and the workers build on the types and rules declared here.
package campaigns
