//go:build !norecover

package extworker_test

const noRecover = false
