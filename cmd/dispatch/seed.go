package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) seedCommand() *cobra.Command {
	var n int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "seed --members N [--seed S]",
		Short: "Add N realistic, deterministic Finnish demo members (names, addresses, consents, purchases)",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n <= 0 {
				return usagef("--members: want a positive number")
			}
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			t0 := time.Now()
			res, err := svc.Seed(a.ctx, actor, n, seed)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "seeded %d members, %d consent events, %d purchases in %s\n",
				res.Members, res.Consents, res.Purchases, time.Since(t0).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "members", 0, "how many members to add (required)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same members")
	return cmd
}
