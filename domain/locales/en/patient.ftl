## What dorsal tells patients in the app and on their phone: red-flag
## advice, reminders, prompts and tips, and the words of a device push.
## A patient may read these in pain at night: short sentences, plain words,
## what to do first. Clinical wording follows the sources named in the rule
## table (domain/src/red_flags) and the tip table (domain/src/prompts.rs).

## Care routes, chosen by the patient's country (domain/src/care_routes.rs).
## Every red-flag message gets two variables, which these three messages
## read (a message that names one of them includes it as { call-emergency }):
##   $emergency: the country's emergency number, or "none" when the
##               patient's country is not known;
##   $route:     "gp-or-nhs-111" (Great Britain only) or
##               "doctor-or-urgent-care".
## Never write a number or a service into another message: only these may
## name one, so no patient is told another country's number.

call-emergency = { $emergency ->
        [none] call your local emergency number
       *[other] call { $emergency }
    }
urgent-route = { $route ->
        [gp-or-nhs-111] your GP or NHS 111
       *[other] your doctor or an urgent care clinic
    }
own-doctor = { $route ->
        [gp-or-nhs-111] your GP
       *[other] your doctor
    }

## The clinic's own line. Every urgent and routine advice includes it
## right after what it asks the patient to do (never after an emergency
## instruction, and never in emergency advice), written straight after the
## sentence before it: it brings its own leading space. $phone is "none"
## when the clinic has set no line (then it says nothing), else in
## international form (+4930123456); $hours is the clinic's own words, as
## the clinic wrote them.

clinic-line = { $phone ->
        [none] {""}
       *[other] {" "}You can also call your care team on { $phone } ({ $hours }).
    }

## Red-flag advice, one title and body per rule. The rule codes and their
## sources are in domain/src/red_flags.

red-flag-cauda-equina-title = Go to the emergency department now
red-flag-cauda-equina-body =
    Loss of bladder or bowel control, numbness between your legs, or symptoms in both legs can mean pressure on the nerves at the base of your spine. Go to the emergency department or { call-emergency } now. Don't wait for a reply here.

red-flag-major-trauma-title = Get emergency care now
red-flag-major-trauma-body =
    Back pain after a serious accident or fall needs emergency assessment. Go to the emergency department or { call-emergency } now.

red-flag-motor-deficit-title = Get a medical assessment today
red-flag-motor-deficit-body =
    New or worsening leg weakness needs an urgent assessment today: contact { urgent-route }.{ clinic-line } If it affects both legs or you notice bladder or bowel changes, go to the emergency department or { call-emergency } now.

red-flag-infection-title = Have your fever checked today
red-flag-infection-body =
    A fever or chills with back pain needs checking today. Contact { urgent-route } today.{ clinic-line } If you feel very unwell, confused or breathless, { call-emergency }.

red-flag-night-sweats-title = Have your night sweats checked
red-flag-night-sweats-body =
    Night sweats with back pain should be checked. Please contact { own-doctor } within a day.{ clinic-line }

red-flag-weight-loss-title = Book an urgent appointment with { own-doctor }
red-flag-weight-loss-body =
    Losing weight without trying, together with back pain, should be checked. Please book an urgent appointment with { own-doctor }.{ clinic-line }

red-flag-cancer-history-title = Contact your cancer team today
red-flag-cancer-history-body =
    Because of your cancer history, new back pain should be checked promptly. Contact your cancer team or { own-doctor } today.{ clinic-line }

red-flag-fragility-fracture-title = Have your back checked today
red-flag-fragility-fracture-body =
    Sudden back pain with osteoporosis, long-term steroid use or older age should be checked today, in case of a spinal fracture. Contact { urgent-route } today.{ clinic-line }

red-flag-radicular-symptoms-title = Tell us if the tingling spreads
red-flag-radicular-symptoms-body =
    Tingling or numbness down one leg is common with back-related nerve irritation. Tell us if it spreads or your leg gets weak.{ clinic-line } If it reaches both legs, or you notice bladder or bowel changes, don't wait for a reply here: go to the emergency department or { call-emergency } now.

red-flag-unrelenting-night-pain-title = Your night pain will be reviewed
red-flag-unrelenting-night-pain-body =
    Pain at night that doesn't ease when you rest or change position should be reviewed. We've asked your care team to contact you.{ clinic-line }

red-flag-night-pain-streak-title = Your night pain will be reviewed
red-flag-night-pain-streak-body =
    Your pain has been keeping you up. Your physiotherapist will review your plan.{ clinic-line }

red-flag-not-improving-title = A physiotherapist review is recommended
red-flag-not-improving-body =
    Your pain hasn't improved as much as we'd expect after two weeks. A physiotherapist review is recommended.{ clinic-line }

red-flag-worsening-trend-title = Your pain has increased
red-flag-worsening-trend-body =
    Your pain has increased. Please check the warning signs; your physiotherapist will review your plan.{ clinic-line }

## The evening stretch reminder.

stretch-reminder-title = Time for your evening stretches
stretch-reminder-body =
    Your home program takes a few minutes. Stretching before bed can ease night-time back pain.

## Prompts and tips (domain/src/prompts.rs, which names what triggers each).

mattress-prompt-title = Time to look at your mattress
mattress-prompt-body =
    Your mattress may no longer support your back. A medium-firm mattress suits most people with back pain. Rotate or flip it now and every few months; a topper or a board under it can help until you replace it.

tip-stomach-title = A tip for sleeping on your stomach
tip-stomach-body =
    Put a thin pillow under your hips and use a flat pillow or none under your head, so your lower back does not arch.

tip-side-knees-title = A tip for sleeping on your side
tip-side-knees-body =
    Put a pillow between your knees to keep your hips, pelvis and spine in line.

tip-back-knees-title = A tip for sleeping on your back
tip-back-knees-body =
    Put a pillow under your knees to keep the natural curve of your lower back.

# $minutes_from and $minutes_to: how long to keep the warmth on.
tip-warmth-title = A tip for a calmer night
tip-warmth-body =
    Warmth on your lower back for { $minutes_from } to { $minutes_to } minutes before bed can ease stiffness (take it off before you fall asleep), followed by your evening stretches.

pt-referral-title = Time to see your physical therapist
pt-referral-body =
    Your back pain has not been getting better, or it keeps waking you at night. Book a visit with your physical therapist to review your program.

# $days: whole days since the last exercise session.
adherence-nudge-title = Your stretches are waiting
adherence-nudge-body =
    It has been { $days ->
        [one] a day
       *[other] { $days } days
    } since your last exercise session. A few minutes of your program today keeps your back moving.

## A device push says only that something is waiting: a lock screen is not
## private.

device-push-title = dorsal
device-push-body = You have a new message.
