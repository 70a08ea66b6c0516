/* cmd_dial.c - `callbot dial` (a built-in test caller: its own SIP UA on 127.0.0.1
 * places a call, speaks, listens, measures the bot's response time) and `callbot
 * demo` (a serve child on loopback with a temporary config, dialled a few turns). */
#include "call/callsvc.h"
#include "cli/cli.h"
#include "core/log.h"
#include "core/util.h"
#include "crypto/token.h"
#include "media/wav.h"
#include "pipeline/dsp_wav.h"
#include "pipeline/resample.h"
#include "pipeline/vad.h"
#include "store/store.h"
#include "stt/stt.h"
#include "tts/tts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIAL_MAX_TURNS 64
#define DIAL_LOUD_DBFS (-40.0)	   /* "non-silent" received frame */
#define DIAL_GREETING_WAIT_MS 8000 /* no greeting by then: speak anyway */
#define DIAL_REPLY_WAIT_MS 15000   /* no reply speech by then: the turn failed */
#define DIAL_REPLY_MAX_MS 60000
#define DIAL_ANSWER_WAIT_S 30

enum phase { PH_RINGING, PH_GREETING, PH_SPEAKING, PH_WAIT_REPLY, PH_IN_REPLY, PH_DONE };

struct dial_turn {
	char *label; /* what we say (the text, or the WAV's file name) */
	int16_t *pcm;
	size_t n;
	/* results */
	bool replied;
	int latency_ms; /* end of our audio -> first loud frame of the reply; -1 none */
	char *heard;
};

struct dialer {
	struct stt_engine *stt;
	struct dial_turn turns[DIAL_MAX_TURNS];
	size_t nturns;
	const char *record_path;
	bool quiet_greeting;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool finished; /* the call ended (or never started) */
	unsigned scode;
	char reason[64];

	/* media worker thread */
	struct mediachan *mc;
	struct vad *vad;
	struct stt_stream *utt;
	enum phase ph;
	size_t cur;
	int64_t ph_start_ms, mine_end_ms, first_loud_ms;
	const int16_t *play; /* what we are sending, for the recording's right channel */
	size_t play_n, play_pos;
	struct wav_writer wav;
	bool wav_open;
};

static double frame_dbfs(const int16_t *pcm, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)pcm[i] * pcm[i];
	s = sqrt(s / (double)(n ? n : 1));
	return s < 1 ? -96.0 : 20.0 * log10(s / 32768.0);
}

/* Leading/trailing near-silence off, so "the end of our audio" is the end of speech. */
static void trim(int16_t **pcm, size_t *n)
{
	size_t a = 0, b = *n;

	while (a < b && abs((*pcm)[a]) < 200)
		a++;
	while (b > a && abs((*pcm)[b - 1]) < 200)
		b--;
	if (a > 0)
		memmove(*pcm, *pcm + a, (b - a) * sizeof(**pcm));
	*n = b - a;
}

/* ---------- the call, on the media worker thread ---------- */

static void finish_locked(struct dialer *d)
{
	d->finished = true;
	pthread_cond_broadcast(&d->cond);
}

static void set_phase(struct dialer *d, enum phase ph)
{
	d->ph = ph;
	d->ph_start_ms = time_mono_ms();
}

static void speak(struct dialer *d)
{
	struct dial_turn *t = &d->turns[d->cur];

	vad_reset(d->vad);
	set_phase(d, PH_SPEAKING);
	d->play = t->pcm;
	d->play_n = t->n;
	d->play_pos = 0;
	d->first_loud_ms = 0;
	if (mediachan_play(d->mc, t->pcm, t->n) != 0)
		set_phase(d, PH_DONE);
}

static void hangup_now(struct dialer *d)
{
	set_phase(d, PH_DONE);
	mediachan_hangup(d->mc);
}

static void next_turn(struct dialer *d)
{
	if (d->cur + 1 < d->nturns) {
		d->cur++;
		speak(d);
	} else {
		hangup_now(d);
	}
}

static void print_turn(struct dialer *d, const struct dial_turn *t)
{
	if (t->replied)
		printf("turn %zu: said \"%s\" | heard \"%s\" | latency %d ms\n", d->cur + 1,
		       t->label, t->heard ? t->heard : "", t->latency_ms);
	else
		printf("turn %zu: said \"%s\" | no reply within %d s\n", d->cur + 1, t->label,
		       DIAL_REPLY_WAIT_MS / 1000);
	fflush(stdout);
}

/* The end of something we listened to: the greeting or a reply. */
static void heard_end(struct dialer *d)
{
	char *text = NULL;

	if (d->utt && stt_stream_end(d->utt, &text, NULL) != 0)
		text = NULL;
	d->utt = NULL;
	if (d->ph == PH_GREETING) {
		if (!d->quiet_greeting) {
			printf("greeting: heard \"%s\"\n", text ? text : "");
			fflush(stdout);
		}
		free(text);
		if (d->nturns) {
			d->cur = 0;
			speak(d);
		} else {
			hangup_now(d);
		}
		return;
	}
	if (d->ph == PH_IN_REPLY) {
		struct dial_turn *t = &d->turns[d->cur];

		t->replied = true;
		t->heard = text;
		print_turn(d, t);
		next_turn(d);
		return;
	}
	free(text);
}

static void listen_begin(struct dialer *d)
{
	int16_t pre[8000];
	size_t n;

	if (stt_stream_begin(d->stt, NULL, &d->utt) != 0) {
		d->utt = NULL;
		return;
	}
	n = vad_preroll(d->vad, pre, sizeof(pre) / sizeof(pre[0]));
	if (n)
		(void)stt_stream_feed(d->utt, pre, n);
}

static void on_audio(void *carg, const int16_t *pcm, size_t n)
{
	struct dialer *d = carg;
	int64_t now = time_mono_ms();
	enum vad_event ev = vad_feed(d->vad, pcm, n);
	bool loud = frame_dbfs(pcm, n) > DIAL_LOUD_DBFS;

	if (d->wav_open) {
		int16_t st[2 * MEDIA_FRAME];

		for (size_t i = 0; i < MEDIA_FRAME; i++) {
			st[2 * i] = i < n ? pcm[i] : 0;
			st[2 * i + 1] =
			    d->play && d->play_pos < d->play_n ? d->play[d->play_pos++] : 0;
		}
		(void)wav_write(&d->wav, st, MEDIA_FRAME);
	}
	switch (d->ph) {
	case PH_GREETING:
		if (ev == VAD_SPEECH_START && !d->utt)
			listen_begin(d);
		else if (d->utt)
			(void)stt_stream_feed(d->utt, pcm, n);
		if (ev == VAD_SPEECH_END ||
		    (!d->utt && !vad_in_speech(d->vad) &&
		     now - d->ph_start_ms > DIAL_GREETING_WAIT_MS) ||
		    now - d->ph_start_ms > DIAL_REPLY_MAX_MS) {
			if (!d->utt && !d->quiet_greeting) {
				printf("greeting: none heard\n");
				fflush(stdout);
			}
			heard_end(d);
		}
		break;
	case PH_WAIT_REPLY:
		if (loud && !d->first_loud_ms) {
			d->first_loud_ms = now;
			d->turns[d->cur].latency_ms = (int)(now - d->mine_end_ms);
		}
		if (ev == VAD_SPEECH_START) {
			listen_begin(d);
			set_phase(d, PH_IN_REPLY);
		} else if (now - d->ph_start_ms > DIAL_REPLY_WAIT_MS) {
			print_turn(d, &d->turns[d->cur]);
			next_turn(d);
		}
		break;
	case PH_IN_REPLY:
		if (d->utt)
			(void)stt_stream_feed(d->utt, pcm, n);
		if (ev == VAD_SPEECH_END || now - d->ph_start_ms > DIAL_REPLY_MAX_MS)
			heard_end(d);
		break;
	default:
		break;
	}
}

static void on_event(void *carg, const struct media_event *ev)
{
	struct dialer *d = carg;

	if (ev->type == MEDIA_EV_PLAYBACK_DONE && d->ph == PH_SPEAKING) {
		d->mine_end_ms = time_mono_ms();
		d->play = NULL;
		vad_reset(d->vad);
		set_phase(d, PH_WAIT_REPLY);
		return;
	}
	if (ev->type != MEDIA_EV_HANGUP)
		return;
	/* The bot may hang up right after its last reply (a goodbye): that reply counts. */
	if (d->ph == PH_IN_REPLY || (d->ph == PH_GREETING && d->utt))
		heard_end(d);
	if (d->ph == PH_IN_REPLY || d->ph == PH_WAIT_REPLY) {
		struct dial_turn *t = &d->turns[d->cur];

		if (d->first_loud_ms && !t->replied) {
			t->replied = true;
			print_turn(d, t);
		}
	}
	stt_stream_abort(d->utt);
	d->utt = NULL;
	d->ph = PH_DONE;
	mediachan_unref(d->mc);
	d->mc = NULL;
}

static void *on_start(void *harg, struct mediachan *mc, const struct media_call_info *ci)
{
	struct dialer *d = harg;

	(void)ci;
	d->mc = mediachan_ref(mc);
	set_phase(d, PH_GREETING);
	return d;
}

/* Loop thread: the call ended or never started. */
static void on_done(void *arg, uint64_t call_id, unsigned scode, const char *status,
		    const char *reason)
{
	struct dialer *d = arg;

	(void)call_id;
	(void)status;
	pthread_mutex_lock(&d->lock);
	d->scode = scode;
	str_copy(d->reason, sizeof(d->reason), reason);
	finish_locked(d);
	pthread_mutex_unlock(&d->lock);
}

/* ---------- preparing the audio ---------- */

struct pcmbuf {
	int16_t *s;
	size_t n, cap;
};

static int collect(const int16_t *pcm, size_t n, void *arg)
{
	struct pcmbuf *b = arg;

	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2;
		int16_t *s = realloc(b->s, cap * sizeof(*s));

		if (!s)
			return ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, pcm, n * sizeof(*pcm));
	b->n += n;
	return 0;
}

static int load_wav(const char *path, struct dial_turn *t)
{
	struct dsp_pcm p = {0};
	const char *why = NULL;
	int err = dsp_wav_read(path, &p, &why);

	if (err) {
		fprintf(stderr, "callbot dial: --wav %s: %s\n", path, why ? why : strerror(err));
		return err;
	}
	if (p.rate != MEDIA_RATE) {
		int16_t *o = NULL;
		size_t on = 0;

		err = resample_buffer(p.s, p.n, p.rate, MEDIA_RATE, &o, &on);
		free(p.s);
		if (err) {
			fprintf(stderr, "callbot dial: --wav %s: cannot resample from %u Hz\n",
				path, p.rate);
			return err;
		}
		p.s = o;
		p.n = on;
	}
	t->pcm = p.s;
	t->n = p.n;
	trim(&t->pcm, &t->n);
	t->label = str_clone(path);
	return 0;
}

static void dialer_free(struct dialer *d)
{
	for (size_t i = 0; i < d->nturns; i++) {
		free(d->turns[i].label);
		free(d->turns[i].pcm);
		free(d->turns[i].heard);
	}
	vad_free(d->vad);
	stt_engine_free(d->stt);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
}

/* ---------- the run ---------- */

struct dial_opts {
	const char *uri;
	const char **say;
	size_t nsay;
	const char **wav; /* several: one turn each */
	size_t nwav;
	const char *record;
	bool quiet_greeting;
};

/* The UA's configuration: the loaded one (speech settings, RTP_PORTS, SRTP) with
 * SIP on 127.0.0.1, an ephemeral port, no registrar, one call, and the
 * destination given on the command line as the only OUTBOUND_ALLOW pattern. */
static void ua_conf(struct conf *uc, const struct conf *base, const char *uri)
{
	*uc = *base;
	uc->sip_server = (char *)"";
	uc->sip_listen = (char *)"127.0.0.1:0";
	memset(&uc->sip_listen_hp, 0, sizeof(uc->sip_listen_hp));
	str_copy(uc->sip_listen_hp.host, sizeof(uc->sip_listen_hp.host), "127.0.0.1");
	uc->sip_allow_n = 0;
	uc->max_calls = 1;
	uc->max_call_seconds = 600;
	uc->bot_mode = BOT_ECHO; /* replaced by our handler; no greeting to synthesise */
	uc->record_calls = false;
	uc->outbound_allow = (char *)uri;
}

static int dial_run(const struct conf *base, const struct dial_opts *o)
{
	struct dialer d = {0};
	struct tts_engine *tts = NULL;
	struct callsvc *cs = NULL;
	struct media_handler h = {0};
	struct callsvc_dial_params dp = {0};
	struct vad_params vp;
	struct conf uc;
	char err[512] = "";
	int rc = EXIT_FAIL, e;
	struct timespec dl;

	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	d.quiet_greeting = o->quiet_greeting;
	ua_conf(&uc, base, o->uri);
	if ((e = stt_engine_alloc(&d.stt, &uc, err, sizeof(err)))) {
		fprintf(stderr, "callbot dial: speech recognition: %s\n",
			err[0] ? err : strerror(e));
		goto out;
	}
	if (o->nwav) {
		for (size_t i = 0; i < o->nwav && i < DIAL_MAX_TURNS; i++) {
			if (load_wav(o->wav[i], &d.turns[i]))
				goto out;
			d.nturns = i + 1;
		}
	} else if (o->nsay) {
		if ((e = tts_engine_alloc(&tts, &uc, err, sizeof(err)))) {
			fprintf(stderr, "callbot dial: speech synthesis: %s\n",
				err[0] ? err : strerror(e));
			goto out;
		}
		for (size_t i = 0; i < o->nsay && i < DIAL_MAX_TURNS; i++) {
			struct pcmbuf b = {0};

			e = tts_synth(tts, o->say[i], collect, &b, NULL);
			d.turns[i].pcm = b.s;
			d.turns[i].n = b.n;
			d.turns[i].label = str_clone(o->say[i]);
			d.nturns = i + 1;
			if (e || !b.n) {
				fprintf(stderr, "callbot dial: cannot synthesise \"%s\": %s\n",
					o->say[i], strerror(e ? e : EIO));
				goto out;
			}
			trim(&d.turns[i].pcm, &d.turns[i].n);
		}
	}
	for (size_t i = 0; i < d.nturns; i++)
		d.turns[i].latency_ms = -1;
	vad_params_default(&vp);
	vp.silence_ms = 800; /* a reply of several sentences stays one reply */
	if (vad_alloc(&d.vad, &vp))
		goto out;
	if (o->record) {
		(void)unlink(o->record);
		if ((e = wav_open(&d.wav, o->record, 2, MEDIA_RATE))) {
			fprintf(stderr, "callbot dial: --record %s: %s\n", o->record, strerror(e));
			goto out;
		}
		d.wav_open = true;
	}
	if (callsvc_start_opts(
		&cs, &uc, NULL,
		&(struct callsvc_opts){.ephemeral_port = true, .no_registration = true})) {
		fprintf(stderr, "callbot dial: cannot start the SIP user agent on 127.0.0.1\n");
		goto out;
	}
	h.start = on_start;
	h.audio = on_audio;
	h.event = on_event;
	h.harg = &d;
	callsvc_set_handler(cs, &h);
	dp.to = o->uri;
	dp.ring_s = DIAL_ANSWER_WAIT_S;
	dp.done = on_done;
	dp.arg = &d;
	if ((e = callsvc_dial(cs, &dp, NULL))) {
		fprintf(stderr, "callbot dial: cannot call %s: %s\n", o->uri,
			e == EINVAL
			    ? "give a sip: URI with an IP address, e.g. sip:bot@127.0.0.1:5060"
			    : strerror(e));
		goto out;
	}
	/* Bounded: ringing, greeting and every turn with its reply. */
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += DIAL_ANSWER_WAIT_S + 90 + (time_t)d.nturns * 90;
	pthread_mutex_lock(&d.lock);
	while (!d.finished)
		if (pthread_cond_timedwait(&d.cond, &d.lock, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&d.lock);
	callsvc_stop(cs); /* ends the call if it still runs; the handler got HANGUP */
	cs = NULL;
	if (d.scode != 200) {
		printf("call failed: %s%s%u\n", d.reason[0] ? d.reason : "no answer",
		       d.scode ? " (SIP " : "", d.scode);
		goto out;
	}
	rc = EXIT_OK;
	for (size_t i = 0; i < d.nturns; i++) {
		if (!d.turns[i].replied) {
			if (d.turns[i].latency_ms < 0 && i >= d.cur && d.cur + 1 < d.nturns)
				printf("turn %zu: not reached (the call ended)\n", i + 1);
			rc = EXIT_FAIL;
		}
	}
	printf("call ended: %s\n", d.reason);
out:
	callsvc_stop(cs);
	if (d.wav_open)
		(void)wav_close(&d.wav);
	tts_engine_free(tts);
	dialer_free(&d);
	fflush(stdout);
	return rc;
}

/* dial URI [--say TEXT ...|--wav FILE] [--record FILE] */
int cmd_dial(struct cli *cli, int argc, char **argv)
{
	const char *say[DIAL_MAX_TURNS], *wav[DIAL_MAX_TURNS];
	struct dial_opts o = {.say = say, .wav = wav};
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if ((!strcmp(a, "--say") || !strcmp(a, "--wav") || !strcmp(a, "--record")) &&
		    i + 1 >= argc) {
			cli_usage_error("dial", "%s needs a value", a);
			return EXIT_USAGE;
		}
		if (!strcmp(a, "--say")) {
			if (o.nsay == DIAL_MAX_TURNS) {
				cli_usage_error("dial", "at most %d --say", DIAL_MAX_TURNS);
				return EXIT_USAGE;
			}
			say[o.nsay++] = argv[++i];
		} else if (!strcmp(a, "--wav")) {
			if (o.nwav == DIAL_MAX_TURNS) {
				cli_usage_error("dial", "at most %d --wav", DIAL_MAX_TURNS);
				return EXIT_USAGE;
			}
			wav[o.nwav++] = argv[++i];
		} else if (!strcmp(a, "--record")) {
			o.record = argv[++i];
		} else if (a[0] == '-' || o.uri) {
			cli_usage_error("dial", "unexpected argument '%s'", a);
			return EXIT_USAGE;
		} else {
			o.uri = a;
		}
	}
	if (!o.uri) {
		cli_usage_error("dial", "which URI? e.g. sip:bot@127.0.0.1:5060");
		return EXIT_USAGE;
	}
	if (o.nwav && o.nsay) {
		cli_usage_error("dial", "--say and --wav exclude each other");
		return EXIT_USAGE;
	}
	rc = cli_load_conf(cli);
	if (rc)
		return rc;
	if (!getenv("CALLBOT_DIAL_VERBOSE"))
		log_set_level(LOGL_WARN);
	return dial_run(&cli->conf, &o);
}

/* ---------- demo ---------- */

static int free_port(int type)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, type, 0), port = -1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool file_has(const char *path, const char *needle)
{
	char *buf = NULL;
	size_t len = 0;
	bool found;

	if (file_read_all(path, 16u << 20, &buf, &len))
		return false;
	found = strstr(buf, needle) != NULL;
	free(buf);
	return found;
}

static int print_turn_row(struct store_turn *t, void *arg)
{
	(void)arg;
	if (!strcmp(t->role, "bot") && t->response_ms >= 0)
		printf("  %-6s %s  (response %d ms)\n", t->role, t->text ? t->text : "",
		       t->response_ms);
	else
		printf("  %-6s %s\n", t->role, t->text ? t->text : "");
	return 0;
}

static void rm_tree(const char *dir)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/bin/rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
}

static bool child_gone(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

int cmd_demo(struct cli *cli, int argc, char **argv)
{
	char dir[PATH_MAX - 64], env[PATH_MAX], logf[PATH_MAX], uri[96];
	const char *tmp = getenv("TMPDIR");
	char secret[TOKEN_URLSAFE_LEN(32) + 1], self[PATH_MAX];
	const char *say[] = {"what time is it", "what is the date", "goodbye"};
	struct dial_opts o = {.say = say, .nsay = 3};
	int sip_port, web_port, rtp_base, rc = EXIT_FAIL, status = 0;
	struct store *st = NULL;
	bool gone = false;
	ssize_t sn;
	FILE *f;
	pid_t pid;

	(void)argv;
	if (argc > 1) {
		cli_usage_error("demo", "takes no arguments");
		return EXIT_USAGE;
	}
	rc = cli_load_conf(cli); /* the speech settings of dial's own side */
	if (rc)
		return rc;
	rc = EXIT_FAIL;
	sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (snprintf(dir, sizeof(dir), "%s/callbot-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
		    (int)sizeof(dir))
		sn = -1;
	if (sn <= 0 || !mkdtemp(dir) || token_random_urlsafe(32, secret, sizeof(secret))) {
		fprintf(stderr, "callbot demo: cannot prepare a temporary directory\n");
		return EXIT_FAIL;
	}
	self[sn] = '\0';
	sip_port = free_port(SOCK_DGRAM);
	web_port = free_port(SOCK_STREAM);
	rtp_base = 30000 + (int)(getpid() % 1000) * 20;
	snprintf(env, sizeof(env), "%s/.env", dir);
	snprintf(logf, sizeof(logf), "%s/logs/callbot.log", dir);
	f = fopen(env, "w");
	if (!f || sip_port <= 0 || web_port <= 0) {
		if (f)
			fclose(f);
		fprintf(stderr, "callbot demo: cannot write %s\n", env);
		goto out;
	}
	(void)fchmod(fileno(f), 0600);
	fprintf(f,
		"SECRET_KEY=%s\nDATABASE_URL=sqlite:///%s/demo.db\nAUDIO_DIR=%s/audio\n"
		"LOG_DIR=%s/logs\nSIP_LISTEN=127.0.0.1:%d\nWEB_LISTEN=127.0.0.1:%d\n"
		"RTP_PORTS=%d-%d\nBOT_MODE=ai\nLLM_BACKEND=rules\nCONSENT_MODE=off\n"
		"RECORD_CALLS=off\nSIP_ALLOW_FROM=127.0.0.1/32\n",
		secret, dir, dir, dir, sip_port, web_port, rtp_base, rtp_base + 19);
	fclose(f);
	printf("demo: starting a callbot (serve) on sip:127.0.0.1:%d with the built-in rules...\n",
	       sip_port);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		static const char *const keys[] = {
		    "SIP_SERVER", "SIP_LISTEN",	  "WEB_LISTEN",	    "RTP_PORTS",
		    "BOT_MODE",	  "LLM_BACKEND",  "DATABASE_URL",   "LOG_DIR",
		    "AUDIO_DIR",  "CONSENT_MODE", "RECORD_CALLS",   "SIP_ALLOW_FROM",
		    "SECRET_KEY", "RULES_FILE",	  "ENCRYPTION_KEY", "OUTBOUND_ALLOW",
		    "GREETING"};
		int null = open("/dev/null", O_RDWR);

		/* the temporary .env decides, not the caller's environment */
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			unsetenv(keys[i]);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execl(self, "callbot", "--config", env, "serve", (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		goto out;
	for (int i = 0; i < 300 && !file_has(logf, "sip: listening on"); i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (child_gone(pid, &status)) {
			gone = true;
			fprintf(stderr, "callbot demo: the serve child exited at start (see %s)\n",
				logf);
			goto stop;
		}
		nanosleep(&ts, NULL);
	}
	if (!file_has(logf, "sip: listening on")) {
		fprintf(stderr, "callbot demo: serve did not start within 30 s\n");
		goto stop;
	}
	snprintf(uri, sizeof(uri), "sip:callbot@127.0.0.1:%d", sip_port);
	printf("demo: calling %s (dial's own recognition of the bot's voice is rough: the\n"
	       "      bot's side, as stored, is printed at the end)\n",
	       uri);
	fflush(stdout);
	o.uri = uri;
	if (!getenv("CALLBOT_DIAL_VERBOSE"))
		log_set_level(LOGL_WARN);
	rc = dial_run(&cli->conf, &o);
stop:
	if (!gone) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 150 && !(gone = child_gone(pid, &status)); i++) {
			struct timespec ts = {0, 100 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
		if (!gone) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "callbot demo: serve ended with status %d\n", status);
	{
		char url[PATH_MAX + 32];

		snprintf(url, sizeof(url), "sqlite:///%s/demo.db", dir);
		if (rc != EXIT_USAGE && !store_open(&st, url, dir)) {
			printf("demo: the conversation as the bot stored it:\n");
			(void)store_turn_list(st, 1, print_turn_row, NULL);
			store_close(st);
		}
	}
out:
	rm_tree(dir);
	return rc;
}
