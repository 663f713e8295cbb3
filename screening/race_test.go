//go:build race

package screening

// bruteEvery samples the positives compared with BruteForce: fewer under the
// race detector, which slows the brute force tenfold.
const bruteEvery = 40
