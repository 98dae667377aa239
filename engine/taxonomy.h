/* taxonomy.h -- labels, label codes, actions and scenes (docs: ../shared taxonomy). */
#ifndef FE_TAXONOMY_H
#define FE_TAXONOMY_H

typedef enum fe_action { FE_ALLOW = 0, FE_FLAG = 1, FE_BLOCK = 2 } fe_action;

enum fe_label {
    FE_L_POLITICS, FE_L_PORN, FE_L_ABUSE, FE_L_VIOLENCE, FE_L_GAMBLING,
    FE_L_CONTRABAND, FE_L_FRAUD, FE_L_VULGAR, FE_L_TRADEMARK, FE_L_AD,
    FE_L_PRIVACY, FE_L_CULT, FE_L_OTHER,
    FE_NLABELS
};

enum fe_scene {
    FE_S_PROFILE, FE_S_COMMENT, FE_S_FORUM, FE_S_SOCIAL_LOG, FE_S_NICKNAME,
    FE_S_TITLE, FE_S_CHAT,
    FE_NSCENES
};

#define FE_SCENE_DEFAULT FE_S_COMMENT
#define FE_CODE_PASS 100   /* msgSecCheck label code of an allowed text */

const char *fe_label_name(int label);
int fe_label_code(int label);             /* msgSecCheck v2 label code */
fe_action fe_label_action(int label);     /* the taxonomy's default action */
int fe_label_lookup(const char *name);    /* -1 if unknown */

const char *fe_action_name(fe_action a);  /* block, flag, allow */
const char *fe_action_suggest(fe_action a); /* risky, review, pass */
int fe_action_lookup(const char *name);   /* -1 if unknown */

const char *fe_scene_name(int scene);
int fe_scene_lookup(const char *name);    /* -1 if unknown */
const char *const *fe_scene_names(void); /* FE_NSCENES names, by enum fe_scene */

#endif
