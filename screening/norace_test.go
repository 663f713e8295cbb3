//go:build !race

package screening

// bruteEvery samples the positives compared with BruteForce.
const bruteEvery = 4
