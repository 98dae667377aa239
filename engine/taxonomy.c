/* taxonomy.c -- the label table of the taxonomy, and name lookups. */
#include <string.h>

#include "taxonomy.h"

static const struct {
    const char *name;
    int code;
    fe_action action;
} labels[FE_NLABELS] = {
    [FE_L_POLITICS] = {"politics", 20001, FE_BLOCK},
    [FE_L_PORN] = {"porn", 20002, FE_BLOCK},
    [FE_L_ABUSE] = {"abuse", 20003, FE_FLAG},
    [FE_L_VIOLENCE] = {"violence", 20006, FE_BLOCK},
    [FE_L_GAMBLING] = {"gambling", 20006, FE_BLOCK},
    [FE_L_CONTRABAND] = {"contraband", 20006, FE_BLOCK},
    [FE_L_FRAUD] = {"fraud", 20008, FE_BLOCK},
    [FE_L_VULGAR] = {"vulgar", 20012, FE_FLAG},
    [FE_L_TRADEMARK] = {"trademark", 20013, FE_FLAG},
    [FE_L_AD] = {"ad", 10001, FE_FLAG},
    [FE_L_PRIVACY] = {"privacy", 21000, FE_FLAG},
    [FE_L_CULT] = {"cult", 21000, FE_FLAG},
    [FE_L_OTHER] = {"other", 21000, FE_FLAG},
};

static const char *actions[] = {"allow", "flag", "block"};
static const char *suggests[] = {"pass", "review", "risky"};

static const char *const scenes[FE_NSCENES] = {
    "profile", "comment", "forum", "social_log", "nickname", "title", "chat",
};

static int lookup(const char *const *names, size_t stride, int n, const char *name)
{
    const char *p = (const char *)names;
    for (int i = 0; i < n; i++)
        if (strcmp(*(const char *const *)(p + (size_t)i * stride), name) == 0)
            return i;
    return -1;
}

const char *fe_label_name(int l) { return l >= 0 && l < FE_NLABELS ? labels[l].name : "none"; }
int fe_label_code(int l) { return l >= 0 && l < FE_NLABELS ? labels[l].code : FE_CODE_PASS; }
fe_action fe_label_action(int l) { return l >= 0 && l < FE_NLABELS ? labels[l].action : FE_ALLOW; }

int fe_label_lookup(const char *name)
{
    return lookup(&labels[0].name, sizeof labels[0], FE_NLABELS, name);
}

const char *fe_action_name(fe_action a) { return (unsigned)a <= FE_BLOCK ? actions[a] : "?"; }
const char *fe_action_suggest(fe_action a) { return (unsigned)a <= FE_BLOCK ? suggests[a] : "?"; }
int fe_action_lookup(const char *name) { return lookup(actions, sizeof actions[0], 3, name); }

const char *fe_scene_name(int s) { return s >= 0 && s < FE_NSCENES ? scenes[s] : "?"; }
int fe_scene_lookup(const char *name) { return lookup(scenes, sizeof scenes[0], FE_NSCENES, name); }
const char *const *fe_scene_names(void) { return scenes; }
