package main

import (
	"fmt"

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
			return fmt.Errorf("seed: not built yet")
		},
	}
	cmd.Flags().IntVar(&n, "members", 0, "how many members to add")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same members")
	return cmd
}
