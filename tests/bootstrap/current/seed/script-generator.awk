# The synthetic tree's stand-in for live-bootstrap's seed/script-generator.c (which the real seed compiles
# with M2-Mesoplanet): evaluate steps/manifest against steps/bootstrap.cfg and write the scripts the chain
# runs, /steps/0.sh, 1.sh, ... (kaem scripts until the first bash-* build, bash scripts after it),
# /kaem.run.N and /init.N for jumps, /preseed-jump.kaem, and bootstrap.cfg with the defined variables.
# Written for lbvm from the rules in docs/steps.md; lbvm's C evaluator (steps/manifest_eval.c) must
# agree with it, and the unit tests check that it does.
#
# usage: awk [-v root=DIR] -f script-generator.awk MANIFEST   (root: where /steps lives; default /)

function fail(msg) {
	print "script-generator: line " NR ": " msg > "/dev/stderr"
	failed = 1
	exit 1
}

function getvar(name,   i) {
	for (i = 1; i <= nv; i++)
		if (vn[i] == name)
			return vv[i]
	return ""
}

# A define updates the first entry after the head with that name, else appends (the head is never
# updated: the chain's generator walks its list from the second entry).
function setvar(name, value,   i) {
	if (nv == 0) {
		nv = 1; vn[1] = name; vv[1] = value
	}
	for (i = 2; i <= nv; i++)
		if (vn[i] == name) {
			vv[i] = value
			return
		}
	nv++; vn[nv] = name; vv[nv] = value
}

# logic = NAME ")" | NAME (== | !=) VALUE (")" | (|| | &&) logic); POS ends at the ")".
function logic(i,   lhs, op, res, r, join) {
	if (i > n) fail("the predicate ends early")
	lhs = tok[i]; i++
	if (i > n) fail("the predicate ends early")
	if (tok[i] == ")") { POS = i; return lhs }
	op = tok[i]
	if (op != "==" && op != "!=") fail("expected == or != after " lhs)
	if (i + 1 > n) fail("no value after " op)
	res = ((getvar(lhs) "") == (tok[i + 1] ""))
	if (op == "!=") res = !res
	i += 2
	if (i > n) fail("the predicate ends early")
	if (tok[i] == ")") { POS = i; return res ? "True" : "False" }
	join = tok[i]
	if (join != "||" && join != "&&") fail("expected || or && in the predicate")
	r = (logic(i + 1) == "True")
	if (join == "||") res = res || r
	else res = res && r
	return res ? "True" : "False"
}

function primary(i) {
	if (tok[i] != "(") fail("expected a predicate starting with (")
	return logic(i + 1)
}

function keep(type, arg) {
	nd++; dtype[nd] = type; darg[nd] = arg
}

BEGIN {
	if (root == "/") root = ""
	cfg = root "/steps/bootstrap.cfg"
	while ((getline line < cfg) > 0) {
		eq = index(line, "=")
		if (!eq) { print "bootstrap.cfg should have the format var=val on each line." > "/dev/stderr"; exit 1 }
		nv++; vn[nv] = substr(line, 1, eq - 1); vv[nv] = substr(line, eq + 1)
	}
	close(cfg)
}

{
	line = $0
	if (line == "" || substr(line, 1, 1) == "#") next
	# a '#' ends the line; one blank before it (or at the end) only ends the last word
	c = index(line, "#")
	if (c) line = substr(line, 1, c - 1)
	if (substr(line, length(line), 1) == " ") line = substr(line, 1, length(line) - 1)
	n = split(line, tok, "[ ]")
	if (n == 0) { n = 1; tok[1] = "" }
	w = tok[1]
	if (w == "build:" || w == "improve:" || w == "jump:") {
		if (n < 2) fail(w " needs a name")
		if (n >= 3 && primary(3) != "True") next
		keep(w, tok[2])
	} else if (w == "define:") {
		if (n < 2 || tok[3] != "=") fail("define needs NAME = VALUE")
		if (n < 4) fail("define has no value")
		if (tok[4] == "(") { val = primary(4); at = POS + 1 } else { val = tok[4]; at = 5 }
		if (at <= n && primary(at) != "True") next
		setvar(tok[2], val)
	} else if (w == "uninstall:") {
		if (n < 2) fail("uninstall needs an argument")
		arg = tok[2]
		for (i = 3; i <= n && tok[i] != "("; i++) arg = arg " " tok[i]
		if (i <= n && primary(i) != "True") next
		keep(w, arg)
	} else {
		fail("'" w "' is not a directive")
	}
}

function start(id, bash,   f, l, envf) {
	f = root "/steps/" id ".sh"
	if (bash) {
		print "#!/bin/bash" > f
		print "set -e" > f
		print "cd /steps" > f
		print ". ./bootstrap.cfg" > f
		print ". ./env" > f
		print ". ./helpers.sh" > f
	} else {
		print "set -ex" > f
		print "cd /steps" > f
		for (l = 1; l <= nv; l++) print vn[l] "=" vv[l] > f
		envf = root "/steps/env"
		while ((getline l < envf) > 0) print l > f
		close(envf)
	}
	return f
}

function call(f, type, name, bash, source) {
	if (bash) printf "%s", (source ? ". " : "bash ") > f
	else printf "kaem --file " > f
	print "/steps/" (type != "" ? type "/" : "") name ".sh" > f
}

END {
	if (failed) exit 1
	counter = 0; bash = 0
	out = start(counter, bash); counter++
	for (d = 1; d <= nd; d++) {
		if (dtype[d] == "build:") {
			pass = 1
			for (p = 1; p < d; p++) if (darg[p] == darg[d]) pass++
			if (bash) {
				print "build " darg[d] " pass" pass ".sh" > out
			} else {
				print "pkg=" darg[d] > out
				print "cd ${pkg}" > out
				print "kaem --file pass" pass ".kaem" > out
				print "cd .." > out
			}
			if (substr(darg[d], 1, 5) == "bash-") {
				if (!bash) {
					pj = root "/preseed-jump.kaem"
					print "set -ex" > pj; print "PATH=/usr/bin" > pj; print "bash /steps/" counter ".sh" > pj
					close(pj)
				}
				bash++
				call(out, "", counter, bash, 0)
				close(out)
				out = start(counter, bash); counter++
			}
		} else if (dtype[d] == "improve:") {
			call(out, "improve", darg[d], bash, 1)
		} else if (dtype[d] == "jump:") {
			if (bash) {
				next_init = "/init." counter
				print "mv /init /init.bak" > out
				print "cp " next_init " /init" > out
				print "chmod 755 /init" > out
			} else {
				next_init = "/kaem.run." counter
				print "cp " next_init " /kaem.run" > out
				print "cp /usr/bin/kaem /init" > out
				print "chmod 755 /init" > out
			}
			call(out, "jump", darg[d], bash, 1)
			close(out)
			f = root next_init
			print (bash ? "#!/bin/bash" : "set -ex") > f
			call(f, "", counter, bash, 0)
			close(f)
			out = start(counter, bash); counter++
		} else {
			print "uninstall " darg[d] > out
		}
	}
	close(out)
	cfg = root "/steps/bootstrap.cfg"
	for (l = 1; l <= nv; l++) print vn[l] "=" vv[l] > cfg
	close(cfg)
}
