# conf2man.awk -- the settings of filterd.conf(5), from config/filterd.conf's own comments.
#
# Usage: awk -f scripts/conf2man.awk config/filterd.conf TEMPLATE > filterd.conf.5
# ("-" as TEMPLATE reads it from stdin). The template is the page's frame
# (man/filterd.conf.5.in); its line "@SETTINGS@" becomes the settings, so the
# configuration file stays the one place where each setting is documented.
# From config/filterd.conf, after its header: a "# ---- title ----" line is a
# subsection; a block (lines up to a blank one) of comments followed by
# setting lines ("name value" or, commented out, "#name value") is one entry
# named after its settings, the comments its text and the rest, shown as
# written, its example. A block with no setting line is a plain paragraph.

function esc(s) {
    gsub(/\\/, "\\e", s)
    gsub(/-/, "\\-", s)
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}

function flush(    i) {
    if (nex) {
        print ".TP"
        print ".B \"" esc(names) "\""
        for (i = 1; i <= ndesc; i++)
            print esc(desc[i])
        print ".IP"
        print ".EX"
        for (i = 1; i <= nex; i++)
            print esc(ex[i])
        print ".EE"
    } else if (ndesc) {
        print ".PP"
        for (i = 1; i <= ndesc; i++)
            print esc(desc[i])
    }
    nex = ndesc = 0
    names = ""
}

function settings(    i, l, t, name) {
    started = 0
    for (i = 1; i <= n; i++) {
        l = conf[i]
        if (l ~ /^# ---- /) {
            flush()
            t = l
            sub(/^# ---- /, "", t)
            sub(/ -+$/, "", t)
            print ".SS \"" toupper(substr(t, 1, 1)) substr(t, 2) "\""
            started = 1
        } else if (!started) {
            continue
        } else if (l ~ /^[ \t]*$/) {
            flush()
        } else if (l ~ /^#?[a-z][a-z-]*([ \t]|$)/) {
            name = l
            sub(/^#/, "", name)
            sub(/[ \t].*/, "", name)
            if (index(", " names ", ", ", " name ", ") == 0)
                names = names (names == "" ? "" : ", ") name
            ex[++nex] = l
        } else if (nex) {
            ex[++nex] = l            # a comment between example lines
        } else {
            t = l
            sub(/^# ?/, "", t)
            desc[++ndesc] = t
        }
    }
    flush()
}

FNR == NR { conf[++n] = $0; next }
$0 == "@SETTINGS@" { settings(); next }
{ print }
