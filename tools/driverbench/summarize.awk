# Summarizes driverbench table rows (from any number of runs) into one row
# per driver and workload: median throughput, slowest–fastest throughput,
# median p50, p99 and CPU time per op. Usage: awk -F'|' -f summarize.awk rows.md
function num(s) { gsub(/[ ,]/, "", s); return s + 0 }
function med(a, k, n,   i, j, t, v) {
	for (i = 1; i <= n; i++) v[i] = a[k, i]
	for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function grp(x,   s) { s = sprintf("%.0f", x); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
NF >= 11 && $3 !~ /workload|---/ {
	k = $2 "|" $3
	if (!(k in n)) { order[++keys] = k; split($6, u, " "); unit[k] = u[2] }
	c = ++n[k]
	tp[k, c] = num($6); p50[k, c] = num($7); p99[k, c] = num($8); cpu[k, c] = num($9)
	if (c == 1 || tp[k, c] < lo[k]) lo[k] = tp[k, c]
	if (c == 1 || tp[k, c] > hi[k]) hi[k] = tp[k, c]
}
END {
	for (i = 1; i <= keys; i++) {
		k = order[i]
		printf "|%s| %s %s | %s–%s | %.2f ms | %.2f ms | %.1f µs |\n", k, grp(med(tp, k, n[k])), unit[k], grp(lo[k]), grp(hi[k]), med(p50, k, n[k]), med(p99, k, n[k]), med(cpu, k, n[k])
	}
}