/* SPDX-License-Identifier: MIT */
/* speech: the speaker is the display. A presenter for DisplayPasskey, DisplayPinCode,
 * RequestConfirmation (and RequestAuthorization): it starts speaking and passes at once, so the
 * next policy of the route (e.g. button) decides while the voice is still speaking. With
 * generate_pin = true it decides RequestPinCode: a random 6-digit PIN, spoken, returned.
 *
 * Text-to-speech runs as an argv template, never through a shell (see spawn-pipeline.h). One
 * message is spoken `repeat` times, each time as a separate utterance (its own process group), with
 * pause_ms of silence between them.
 *
 * When speech stops:
 * - RequestConfirmation, RequestAuthorization: when the request ends (decided by anyone,
 *   canceled, timed out): request_ended().
 * - DisplayPasskey, DisplayPinCode and a generated PIN: the request ends at once (bluetoothd does
 *   not wait for DisplayPasskey, the chain acknowledges DisplayPinCode, the PIN is returned at
 *   once) while the remote user still has to hear and type the code, and bluetoothd sends no
 *   Cancel afterwards. So these "display" speeches last until the pairing ends, as the device
 *   cache tells (Paired turned true, Connected turned false, device removed), or
 *   display_timeout. A DisplayPasskey repeated for the same device and code (BR/EDR keypress
 *   notifications, `entered` increasing) does not restart anything.
 * - A new speech silences the others: the latest pairing is the one the listener cares about.
 *
 * A missing, failing or hanging synthesiser is logged and audited (AUDIT_POLICY_EVENT, TTS=...)
 * and never decides anything. Texts containing a PIN are never logged, and neither is what the
 * synthesiser printed while speaking them; they never go into argv either, but to the command's
 * stdin (see utterance_start()).
 *
 * Typing (RequestPasskey, RequestPinCode without generate_pin): speech passes at once and
 * remembers the request; when a keypad routed after it asks (announce.h), it speaks what to type
 * (texts.KeypadPasskey / KeypadPinCode) and, with the keypad's echo = true, each digit typed
 * (texts.KeypadDigit; a PIN's digits go to the command's stdin like every PIN) and each deletion.
 *
 * The section's keys (argv templates, texts, timing) live in speech-config.c, the texts' templates
 * and name sanitising in speech-text.c; this file speaks. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "announce.h"
#include "audit.h"
#include "device-cache.h"
#include "macro.h"
#include "policy.h"
#include "settings.h"
#include "spawn-pipeline.h"
#include "speech-config.h"
#include "speech-text.h"

#define SPEECH_KILL_GRACE_USEC (1000 * 1000ULL)
#define SPEECH_TEXT_MAX        1024 /* bytes of a rendered text */
#define SPEECH_PIN_SPELL_MAX   16

typedef struct SpeechPolicy SpeechPolicy;

typedef struct Speech {
        SpeechPolicy *policy;
        uint64_t request_id;
        AgentMethod method;
        char *device, *address;
        char *text;   /* erased when freed: it may hold a PIN */
        bool secret;  /* the text holds a PIN: never logged, nor the synthesiser's output */
        bool display; /* lasts until the pairing ends (see above), not until the request ends */
        bool was_paired, seen_connected;
        unsigned left; /* utterances still to start */
        SpawnPipeline *current;
        sd_event_source *pause, *bound;
} Speech;

struct SpeechPolicy {
        sd_event *event; /* NULL: validation only */
        DeviceCache *devices;
        DeviceListener *listener;
        SpeechConfig config; /* the section (speech-config.c) */
        Announcer *announcer;
        GArray *keypad_requests; /* uint64_t ids of RequestPasskey/RequestPinCode speech saw */
        GList *speeches;         /* Speech* */
        GList *dying;            /* SpawnPipeline* stopped, waiting to be reaped */
};

static void strv_free_erase(char **v) {
        for (char **s = v; s && *s; s++)
                explicit_bzero(*s, strlen(*s));
        g_strfreev(v);
}

static void erase_free(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        g_free(s);
}

/* ---- speeches ----------------------------------------------------------------------------- */

static void on_device_changed(const Device *d, bool removed, void *userdata);

static void speech_free(Speech *s) {
        if (!s)
                return;
        spawn_pipeline_free(s->current); /* only when still running at shutdown: SIGKILL */
        sd_event_source_disable_unref(s->pause);
        sd_event_source_disable_unref(s->bound);
        erase_free(s->text);
        g_free(s->device);
        g_free(s->address);
        g_free(s);
}

/* Stop speaking: the running utterance's process group gets SIGTERM (then SIGKILL) and is
 * reaped in the background. */
static void speech_silence(Speech *s) {
        SpeechPolicy *sp = s->policy;

        if (s->current) {
                spawn_pipeline_stop(s->current);
                sp->dying = g_list_prepend(sp->dying, TAKE_PTR(s->current));
        }
        s->pause = sd_event_source_disable_unref(s->pause);
        s->left = 0;
}

static void speech_end(Speech *s, const char *why) {
        SpeechPolicy *sp = s->policy;

        log_debug("speech: stopping %s speech for %s (request %" PRIu64 "): %s",
                  agent_method_to_string(s->method), s->address ? s->address : s->device,
                  s->request_id, why);
        speech_silence(s);
        sp->speeches = g_list_remove(sp->speeches, s);
        speech_free(s);
}

static void report_failure(const Speech *s, const char *tts, const char *reason,
                           const char *output) {
        AuditRecord rec = AUDIT_RECORD_INIT(AUDIT_POLICY_EVENT);
        _cleanup_free_ char *msg = g_strdup_printf("Speech failed: %s", reason);

        rec.message = msg;
        rec.request_id = s->request_id;
        rec.method = agent_method_to_string(s->method);
        rec.device = s->device;
        rec.address = s->address;
        rec.policy = "speech";
        rec.extra_key = "tts";
        rec.extra_value = tts;
        rec.reason = reason;
        audit_emit(&rec);
        log_warning("speech: %s", reason);
        /* What the synthesiser printed may echo the text: only for texts without a PIN. */
        if (output && output[0] && !s->secret) {
                _cleanup_free_ char *esc = audit_escape(output, 256);
                log_warning("speech: its output: %s", esc);
        }
}

/* The program of the pipeline at index (0 the command, 1 the player), for messages; the command
 * when there is no such player. */
static void program_at(const SpeechPolicy *sp, long index, const char **ret_role,
                       const char **ret_prog) {
        bool player = index == 1 && sp->config.player && sp->config.player[0];

        *ret_role = player ? "player" : "command";
        *ret_prog = player ? sp->config.player[0] : sp->config.command[0];
}

static void report_spawn_status(const SpeechPolicy *sp, const Speech *s, const SpawnStatus *st) {
        const char *prog, *role;
        _cleanup_free_ char *reason = NULL;

        program_at(sp, st->index, &role, &prog);
        switch (st->result) {
        case SPAWN_NOT_FOUND:
                reason = g_strdup_printf("%s '%s' exited with status 127 (not found?)", role, prog);
                report_failure(s, "missing", reason, st->output);
                break;
        case SPAWN_FAILED:
                if (st->signal)
                        reason = g_strdup_printf("%s '%s' was killed by signal %d (%s)", role, prog,
                                                 st->signal, strsignal(st->signal));
                else
                        reason = g_strdup_printf("%s '%s' exited with status %d", role, prog,
                                                 st->exit_status);
                report_failure(s, "failed", reason, st->output);
                break;
        case SPAWN_TIMEOUT:
                reason = g_strdup_printf("'%s' still speaking after utterance_timeout = %u s: "
                                         "killed",
                                         sp->config.command[0], sp->config.utterance_timeout);
                report_failure(s, "timeout", reason, st->output);
                break;
        default:
                break;
        }
}

static Speech *speech_by_pipeline(SpeechPolicy *sp, const SpawnPipeline *p) {
        for (GList *l = sp->speeches; l; l = l->next) {
                Speech *s = l->data;
                if (s->current == p)
                        return s;
        }
        return NULL;
}

static int utterance_start(Speech *s);

static int on_pause(sd_event_source *src, uint64_t usec, void *userdata) {
        Speech *s = userdata;

        s->pause = sd_event_source_disable_unref(s->pause);
        (void) utterance_start(s);
        return 0;
}

/* All utterances are over (or failed): a display speech stays as the record of this pairing
 * (until it ends), the others are done. */
static void speech_spoken(Speech *s) {
        if (!s->display)
                speech_end(s, "spoken");
}

static void on_utterance_done(SpawnPipeline *p, const SpawnStatus *st, void *userdata) {
        SpeechPolicy *sp = userdata;
        Speech *s = speech_by_pipeline(sp, p);
        int r;

        if (!s) { /* a stopped utterance, now reaped */
                sp->dying = g_list_remove(sp->dying, p);
                spawn_pipeline_free(p);
                return;
        }
        report_spawn_status(sp, s, st);
        s->current = spawn_pipeline_free(s->current);
        if (st->result != SPAWN_SUCCESS)
                s->left = 0; /* do not insist with a broken synthesiser */
        if (s->left == 0) {
                speech_spoken(s);
                return;
        }
        r = sd_event_add_time_relative(sp->event, &s->pause, CLOCK_MONOTONIC,
                                       (uint64_t) sp->config.pause_ms * 1000, 0, on_pause, s);
        if (r < 0) {
                log_warning("speech: cannot arm the pause timer: %s", g_strerror(-r));
                speech_spoken(s);
        }
}

/* Start the next utterance. On failure (<0) the speech is over, reported, and a non-display
 * speech freed.
 *
 * A text holding a PIN never goes into argv, whatever the command: any local user can read a
 * process's arguments in /proc/<pid>/cmdline while it speaks. The arguments containing {text}
 * are left out and the text is written to the command's stdin (espeak-ng reads stdin when given
 * no text argument). */
static int utterance_start(Speech *s) {
        SpeechPolicy *sp = s->policy;
        _cleanup_free_ char *input = NULL;
        bool on_stdin = sp->config.text_on_stdin || s->secret;
        char **argv = speech_argv_render(sp->config.command, on_stdin ? NULL : s->text);
        SpawnParams params = {
                .argv = { argv, sp->config.player },
                .timeout_usec = (uint64_t) sp->config.utterance_timeout * 1000000ULL,
                .kill_grace_usec = SPEECH_KILL_GRACE_USEC,
        };
        int index = -1;
        int r;

        if (on_stdin)
                params.input = input = g_strconcat(s->text, "\n", NULL);
        s->left--;
        r = spawn_pipeline_start(&s->current, sp->event, &params, on_utterance_done, sp, &index);
        strv_free_erase(argv);
        erase_free(TAKE_PTR(input));
        if (r < 0) {
                const char *prog, *role;
                _cleanup_free_ char *reason = NULL;

                program_at(sp, index, &role, &prog);
                if (index < 0) /* not a program's failure (see spawn_pipeline_start()) */
                        reason = g_strdup_printf("cannot start '%s': %s", prog, g_strerror(-r));
                else
                        reason = g_strdup_printf("cannot run %s '%s': %s", role, prog,
                                                 r == -ENOENT
                                                         ? "not found (check PATH and the package)"
                                                         : g_strerror(-r));
                report_failure(s, index >= 0 && r == -ENOENT ? "missing" : "failed", reason, NULL);
                s->current = NULL;
                s->left = 0;
                speech_spoken(s);
        }
        return r;
}

static int on_bound(sd_event_source *src, uint64_t usec, void *userdata) {
        Speech *s = userdata;

        s->bound = sd_event_source_disable_unref(s->bound);
        speech_end(s, "display_timeout reached");
        return 0;
}

static void on_device_changed(const Device *d, bool removed, void *userdata) {
        SpeechPolicy *sp = userdata;

        for (GList *l = sp->speeches, *next; l; l = next) {
                Speech *s = l->data;
                const char *why = NULL;

                next = l->next;
                if (!s->display || !streq(s->device, d->path))
                        continue;
                if (removed)
                        why = "device removed";
                else if (d->paired && !s->was_paired)
                        why = "paired";
                else if (d->connected)
                        s->seen_connected = true;
                else if (s->seen_connected)
                        why = "disconnected";
                if (why)
                        speech_end(s, why);
        }
}

static bool method_is_display(AgentMethod m) {
        return m == AGENT_METHOD_DISPLAY_PASSKEY || m == AGENT_METHOD_DISPLAY_PIN_CODE ||
               m == AGENT_METHOD_REQUEST_PIN_CODE;
}

/* Start speaking `text` (taken) for q, `repeat` times; a display speech lasts until the pairing
 * ends (see the top). Returns <0 when not even the first utterance started. */
static int speech_start(SpeechPolicy *sp, const PairingQuery *q, char *text, bool secret,
                        bool display, unsigned repeat) {
        Speech *s = g_new0(Speech, 1);
        const Device *d =
                sp->devices && q->device ? device_cache_get(sp->devices, q->device) : NULL;
        int r;

        /* The latest pairing is the one to hear: silence the others. Display speeches stay as
         * records (so their keypress notifications do not restart them), except an older one for
         * this very device, which this one replaces. */
        for (GList *l = sp->speeches, *next; l; l = next) {
                Speech *o = l->data;
                next = l->next;
                if (!o->display || streq_ptr(o->device, q->device))
                        speech_end(o, "a new speech started");
                else
                        speech_silence(o);
        }

        *s = (Speech){
                .policy = sp,
                .request_id = q->request_id,
                .method = q->method,
                .device = g_strdup(q->device),
                .address = g_strdup(q->address),
                .text = text,
                .secret = secret,
                .display = display,
                .was_paired = d ? d->paired : q->paired,
                .seen_connected = d && d->connected,
                .left = repeat,
        };
        sp->speeches = g_list_append(sp->speeches, s);
        if (s->display) {
                r = sd_event_add_time_relative(sp->event, &s->bound, CLOCK_MONOTONIC,
                                               (uint64_t) sp->config.display_timeout * 1000000ULL,
                                               0, on_bound, s);
                if (r < 0) {
                        speech_end(s, "cannot arm display_timeout");
                        return r;
                }
        }
        log_debug("speech: speaking the %s prompt for %s (request %" PRIu64 ", %u times)",
                  agent_method_to_string(q->method), q->address ? q->address : q->device,
                  q->request_id, repeat);
        return utterance_start(s);
}

static Speech *display_speech_for(SpeechPolicy *sp, const PairingQuery *q, const char *text) {
        for (GList *l = sp->speeches; l; l = l->next) {
                Speech *s = l->data;
                if (s->display && s->method == q->method && streq_ptr(s->device, q->device) &&
                    streq(s->text, text))
                        return s;
        }
        return NULL;
}

/* ---- PolicyOps ------------------------------------------------------------------------------ */

static void speech_clear(SpeechPolicy *sp) {
        if (sp->listener)
                device_cache_remove_listener(sp->devices, sp->listener);
        /* The loop may not run again (shutdown): kill and reap now. */
        for (GList *l = sp->speeches; l; l = l->next)
                speech_free(l->data);
        g_list_free(sp->speeches);
        for (GList *l = sp->dying; l; l = l->next)
                spawn_pipeline_free(l->data);
        g_list_free(sp->dying);
        speech_config_clear(&sp->config);
        announcer_unregister(sp->announcer);
        if (sp->keypad_requests)
                g_array_free(sp->keypad_requests, true);
        sd_event_unref(sp->event);
        *sp = (SpeechPolicy){ 0 };
}

/* ---- for the keypad (announce.h) ------------------------------------------------------------ */

static bool saw_keypad_request(const SpeechPolicy *sp, uint64_t request_id) {
        for (guint i = 0; i < sp->keypad_requests->len; i++)
                if (g_array_index(sp->keypad_requests, uint64_t, i) == request_id)
                        return true;
        return false;
}

static bool on_announce(const Announcement *a, void *userdata) {
        SpeechPolicy *sp = userdata;
        const PairingQuery *q = a->query;
        _cleanup_free_ char *name = NULL;
        char digit[2] = { a->digit, '\0' };
        SpeechVars v = { 0 };
        KeypadText k;
        char *text;

        if (!q || !saw_keypad_request(sp, q->request_id))
                return false; /* not routed before this keypad for this request */
        switch (a->kind) {
        case ANNOUNCE_KEYPAD_PROMPT:
                k = q->method == AGENT_METHOD_REQUEST_PIN_CODE ? KEYPAD_TEXT_PIN
                                                               : KEYPAD_TEXT_PASSKEY;
                break;
        case ANNOUNCE_KEYPAD_DIGIT:
                k = KEYPAD_TEXT_DIGIT;
                break;
        case ANNOUNCE_KEYPAD_DELETE:
                k = KEYPAD_TEXT_DELETE;
                break;
        default:
                return false;
        }
        if (!sp->config.keypad_texts[k][0])
                return false;
        v.kind = speech_kind_from_class(q->has_class, q->device_class);
        if (sp->config.speak_names)
                name = speech_sanitize_name(q->name, SPEECH_NAME_MAX);
        v.device = name ? name : v.kind;
        v.digit = digit;
        text = speech_template_render(sp->config.keypad_texts[k], &v);
        explicit_bzero(digit, sizeof digit);
        if (strlen(text) > SPEECH_TEXT_MAX)
                text[SPEECH_TEXT_MAX] = '\0';
        /* A digit of a PIN is secret (stdin, never logged); a prompt is repeated, a
         * confirmation said once; none lasts beyond the request. */
        return speech_start(
                       sp, q, text,
                       k == KEYPAD_TEXT_DIGIT && q->method == AGENT_METHOD_REQUEST_PIN_CODE, false,
                       k == KEYPAD_TEXT_DIGIT || k == KEYPAD_TEXT_DELETE ? 1 : sp->config.repeat) >=
               0;
}

static int speech_init(Policy *p, const config_setting_t *section, const PolicyEnv *env,
                       char **ret_error) {
        SpeechPolicy *sp = p->data;
        int r;

        r = speech_config_parse(&sp->config, section, env, ret_error);
        if (r < 0) {
                speech_clear(sp); /* done() is not called after a failed init */
                return r;
        }
        if (!env->event) /* validation only */
                return 0;
        sp->event = sd_event_ref(env->event);
        sp->devices = env->devices;
        sp->keypad_requests = g_array_new(false, false, sizeof(uint64_t));
        sp->announcer = announcer_register(on_announce, sp);
        if (sp->devices)
                sp->listener = device_cache_add_listener(sp->devices, on_device_changed, sp);
        return 0;
}

static void speech_done(Policy *p) {
        speech_clear(p->data);
}

static int speech_decide(Policy *p, const PairingQuery *q, policy_done_t done, void *userdata,
                         PolicyResult *ret, PolicyCall **ret_call) {
        SpeechPolicy *sp = p->data;
        const char *tmpl = q->method >= 0 && q->method < _AGENT_METHOD_MAX
                                   ? sp->config.texts[q->method]
                                   : NULL;
        _cleanup_free_ char *passkey = NULL, *name = NULL;
        char *pin_words = NULL, *text;
        char pin[7] = "";
        SpeechVars v = { 0 };
        int r;

        *ret = (PolicyResult){ .verdict = VERDICT_PASS, .reason = "speech: nothing to say" };
        if (sp->event &&
            (q->method == AGENT_METHOD_REQUEST_PASSKEY ||
             (q->method == AGENT_METHOD_REQUEST_PIN_CODE && !sp->config.generate_pin))) {
                /* Somebody has to type: a keypad after speech will ask for its prompt. */
                g_array_append_val(sp->keypad_requests, q->request_id);
                ret->reason = "speech: the prompt is spoken when a keypad asks for it";
                return 1;
        }
        if (!sp->event || !tmpl || !tmpl[0])
                return 1;
        if (q->method == AGENT_METHOD_REQUEST_PIN_CODE) {
                r = speech_random_pin(pin);
                if (r < 0) {
                        log_warning("speech: no random PIN: %s", g_strerror(-r));
                        ret->reason = "speech: the kernel gave no random PIN";
                        return 1;
                }
                pin_words = speech_spell(pin, SPEECH_PIN_SPELL_MAX);
        } else if (q->method == AGENT_METHOD_DISPLAY_PIN_CODE)
                pin_words = speech_spell(q->pincode, SPEECH_PIN_SPELL_MAX);

        v.kind = speech_kind_from_class(q->has_class, q->device_class);
        if (sp->config.speak_names)
                name = speech_sanitize_name(q->name, SPEECH_NAME_MAX);
        v.device = name ? name : v.kind;
        if (q->method == AGENT_METHOD_DISPLAY_PASSKEY ||
            q->method == AGENT_METHOD_REQUEST_CONFIRMATION)
                passkey = speech_passkey_words(q->passkey);
        v.passkey = passkey;
        v.pin = pin_words;
        text = speech_template_render(tmpl, &v);
        erase_free(pin_words);
        if (strlen(text) > SPEECH_TEXT_MAX)
                text[SPEECH_TEXT_MAX] = '\0';

        if (method_is_display(q->method) && display_speech_for(sp, q, text)) {
                /* The same pairing again (keypress notification): it is being (or was) said. */
                erase_free(text);
                explicit_bzero(pin, sizeof pin);
                ret->reason = "speech: already spoken for this pairing";
                return 1;
        }
        r = speech_start(sp, q, text, pin[0] != '\0' || q->method == AGENT_METHOD_DISPLAY_PIN_CODE,
                         method_is_display(q->method), sp->config.repeat);
        if (q->method == AGENT_METHOD_REQUEST_PIN_CODE) {
                if (r < 0)
                        /* Never return a PIN that nobody heard (and never approve because of a
                         * broken synthesiser): the next policy, or the final rejection, decides. */
                        ret->reason = "speech: the PIN could not be spoken";
                else {
                        ret->verdict = VERDICT_ALLOW;
                        memcpy(ret->pin, pin, sizeof pin);
                        ret->reason = "speech: random PIN generated and spoken";
                }
        } else {
                ret->reason =
                        r < 0 ? "speech: the prompt could not be spoken" : "speech: prompt spoken";
                ret->presented = r >= 0;
        }
        explicit_bzero(pin, sizeof pin);
        return 1;
}

static void speech_request_ended(Policy *p, uint64_t request_id) {
        SpeechPolicy *sp = p->data;

        for (guint i = 0; sp->keypad_requests && i < sp->keypad_requests->len; i++)
                if (g_array_index(sp->keypad_requests, uint64_t, i) == request_id)
                        g_array_remove_index(sp->keypad_requests, i--);

        for (GList *l = sp->speeches, *next; l; l = next) {
                Speech *s = l->data;
                next = l->next;
                if (s->request_id == request_id && !s->display)
                        speech_end(s, "request ended");
        }
}

/* Speech presents; it approves only RequestPinCode, with a PIN it generated and spoke. */
static bool speech_can_allow(const config_setting_t *section, AgentMethod m) {
        int on = 0;

        return m == AGENT_METHOD_REQUEST_PIN_CODE && section &&
               config_setting_lookup_bool(section, "generate_pin", &on) && on;
}

const PolicyOps speech_policy_ops = {
        .can_allow = speech_can_allow,
        .name = "speech",
        .involves_person = true,
        .size = sizeof(SpeechPolicy),
        .init = speech_init,
        .done = speech_done,
        .decide = speech_decide,
        .request_ended = speech_request_ended,
};
