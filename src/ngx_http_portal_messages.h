
/*
 * Portail Citoyen: every French message the module writes, in one place,
 * so that the pages, the API and the tests say the same thing.  The mails'
 * texts are PostgreSQL's (sql/functions/).
 */


#ifndef _NGX_HTTP_PORTAL_MESSAGES_H_INCLUDED_
#define _NGX_HTTP_PORTAL_MESSAGES_H_INCLUDED_


/* the error envelope's messages, by code */

#define NGX_HTTP_PORTAL_M_NOT_FOUND                                          \
    "Cette adresse ne correspond à aucun service du portail."
#define NGX_HTTP_PORTAL_M_METHOD                                             \
    "Cette méthode n’est pas acceptée à cette adresse."
#define NGX_HTTP_PORTAL_M_CSRF                                               \
    "Jeton anti-falsification absent ou invalide : rechargez la page."
#define NGX_HTTP_PORTAL_M_JSON_TYPE                                          \
    "Les données doivent être envoyées en JSON (application/json)."
#define NGX_HTTP_PORTAL_M_BAD_JSON                                           \
    "Le corps de la requête n’est pas un objet JSON valide."
#define NGX_HTTP_PORTAL_M_INTERNAL                                           \
    "Une erreur interne est survenue. Merci de réessayer plus tard."
#define NGX_HTTP_PORTAL_M_TOO_LARGE                                          \
    "La requête dépasse la taille autorisée."
#define NGX_HTTP_PORTAL_M_TOO_MANY_REQUESTS                                  \
    "Trop de demandes : patientez quelques instants."
#define NGX_HTTP_PORTAL_M_BAD_COOKIE                                         \
    "Votre navigateur a envoyé deux cookies du même nom : fermez-le, puis"   \
    " reconnectez-vous."
#define NGX_HTTP_PORTAL_M_BUSY                                               \
    "Le service est très sollicité : réessayez dans un instant."
#define NGX_HTTP_PORTAL_M_DB_UNAVAILABLE                                     \
    "Le service est momentanément indisponible. Merci de réessayer dans"     \
    " quelques instants."
#define NGX_HTTP_PORTAL_M_INVALID                                            \
    "Certaines informations sont à corriger."

#define NGX_HTTP_PORTAL_M_UNAUTHENTICATED                                    \
    "Vous devez vous connecter à votre compte citoyen."
#define NGX_HTTP_PORTAL_M_SESSION_OVER                                       \
    "Votre session a pris fin : reconnectez-vous."
#define NGX_HTTP_PORTAL_M_CHANGE_PASSWORD                                    \
    "Choisissez d’abord un nouveau mot de passe."
#define NGX_HTTP_PORTAL_M_NOT_VALIDATED                                      \
    "Votre compte est en attente de validation par la Mairie : vous pouvez"  \
    " déjà faire vos démarches ; vos informations seront modifiables après"  \
    " validation."
#define NGX_HTTP_PORTAL_M_TOO_MANY_ATTEMPTS                                  \
    "Trop de tentatives : réessayez dans un quart d’heure."
#define NGX_HTTP_PORTAL_M_BAD_CREDENTIALS                                    \
    "Identifiant ou mot de passe incorrect."
#define NGX_HTTP_PORTAL_M_RECORD_NOT_FOUND  "Cette fiche n’existe pas."
#define NGX_HTTP_PORTAL_M_DOCUMENT_NOT_FOUND  "Ce document est introuvable."


/* the captcha */

#define NGX_HTTP_PORTAL_M_CAPTCHA_WRONG                                      \
    "Le texte recopié ne correspond pas à l’image."
#define NGX_HTTP_PORTAL_M_CAPTCHA_WRONG_FIELD                                \
    "Le texte recopié ne correspond pas à l’image : recopiez le nouveau"     \
    " cryptogramme."
#define NGX_HTTP_PORTAL_M_CAPTCHA_EXPIRED                                    \
    "L’image a expiré : elle n’est valable que 10 minutes."
#define NGX_HTTP_PORTAL_M_CAPTCHA_EXPIRED_FIELD                              \
    "L’image a expiré : recopiez le texte de la nouvelle image."
#define NGX_HTTP_PORTAL_M_CAPTCHA_REQUIRED                                   \
    "Trop d’essais infructueux : recopiez le texte de l’image pour"          \
    " continuer."
#define NGX_HTTP_PORTAL_M_CAPTCHA_FETCHES                                    \
    "Cette image a déjà été demandée plusieurs fois : demandez-en une"       \
    " nouvelle."
#define NGX_HTTP_PORTAL_M_CAPTCHA_GONE                                       \
    "Ce code de vérification a expiré ou a déjà servi : demandez-en un"      \
    " nouveau."
#define NGX_HTTP_PORTAL_M_CAPTCHA_ID                                         \
    "Le cryptogramme manque : demandez-en un."
#define NGX_HTTP_PORTAL_M_CAPTCHA_ANSWER  "Recopiez le texte de l’image."
#define NGX_HTTP_PORTAL_M_AUDIO_UNAVAILABLE                                  \
    "La version audio est momentanément indisponible. Merci de réessayer"    \
    " plus tard."
#define NGX_HTTP_PORTAL_M_CAPTCHA_ALT                                        \
    "Image de vérification (captcha) : %ui caractères déformés, lettres"     \
    " majuscules et chiffres, à recopier dans le champ prévu. Ils peuvent"   \
    " aussi être écoutés."


/* the bounds of a date: "DD/MM/YYYY" for each %s */

#define NGX_HTTP_PORTAL_M_DATE_BETWEEN                                       \
    "Choisissez une date entre le %s et le %s."
#define NGX_HTTP_PORTAL_M_DATE_FROM  "Choisissez une date à partir du %s."
#define NGX_HTTP_PORTAL_M_DATE_UNTIL  "Choisissez une date jusqu’au %s."
#define NGX_HTTP_PORTAL_M_DATE_NOT_FUTURE                                    \
    "La date ne peut pas être dans le futur."
#define NGX_HTTP_PORTAL_M_DATE_NOT_PAST  "La date ne peut pas être passée."


/* a procedure's form: the fields of the definitions (%i, %s: bounds) */

#define NGX_HTTP_PORTAL_M_FORM_DATA                                          \
    "Les réponses du formulaire sont manquantes."
#define NGX_HTTP_PORTAL_M_FORM_TEXT                                          \
    "Remplissez ce champ (%i caractères au plus)."
#define NGX_HTTP_PORTAL_M_FORM_TEL  "Saisissez un numéro de téléphone."
#define NGX_HTTP_PORTAL_M_FORM_DATE  "Saisissez une date."
#define NGX_HTTP_PORTAL_M_FORM_DATE_FORM  "Cette date n’existe pas."
#define NGX_HTTP_PORTAL_M_FORM_NUMBER  "Saisissez un nombre."
#define NGX_HTTP_PORTAL_M_FORM_NUMBER_BETWEEN                                \
    "Saisissez un nombre entre %s et %s."
#define NGX_HTTP_PORTAL_M_FORM_NUMBER_MIN                                    \
    "Saisissez un nombre supérieur ou égal à %s."
#define NGX_HTTP_PORTAL_M_FORM_NUMBER_MAX                                    \
    "Saisissez un nombre inférieur ou égal à %s."
#define NGX_HTTP_PORTAL_M_FORM_SELECT                                        \
    "Choisissez une réponse dans la liste."
#define NGX_HTTP_PORTAL_M_FORM_CHECKBOX  "Cochez cette case pour continuer."


/* a person: the holder of an account, a member of the household */

#define NGX_HTTP_PORTAL_M_PERSON_MISSING  "Ces informations sont manquantes."
#define NGX_HTTP_PORTAL_M_CIVILITY                                           \
    "Choisissez « Madame » ou « Monsieur »."
#define NGX_HTTP_PORTAL_M_FIRST_NAME  "Saisissez le prénom."
#define NGX_HTTP_PORTAL_M_FIRST_NAME_FORM                                    \
    "Le prénom ne peut contenir que des lettres, espaces, traits d’union"    \
    " et apostrophes."
#define NGX_HTTP_PORTAL_M_LAST_NAME  "Saisissez le nom."
#define NGX_HTTP_PORTAL_M_LAST_NAME_FORM                                     \
    "Le nom ne peut contenir que des lettres, espaces, traits d’union et"    \
    " apostrophes."
#define NGX_HTTP_PORTAL_M_BIRTH_DATE  "Saisissez la date de naissance."
#define NGX_HTTP_PORTAL_M_BIRTH_DATE_FORM                                    \
    "La date de naissance doit être une date passée (AAAA-MM-JJ)."
#define NGX_HTTP_PORTAL_M_EMAIL  "Saisissez une adresse électronique."
#define NGX_HTTP_PORTAL_M_EMAIL_FORM                                         \
    "L’adresse électronique n’est pas valide."
#define NGX_HTTP_PORTAL_M_PHONE  "Le numéro de téléphone n’est pas valide."
#define NGX_HTTP_PORTAL_M_PHONE_FORM                                         \
    "Le numéro de téléphone doit compter 10 chiffres (ou l’indicatif + et"   \
    " 11 à 15 chiffres)."
#define NGX_HTTP_PORTAL_M_ADDRESS  "Saisissez l’adresse."
#define NGX_HTTP_PORTAL_M_ADDRESS_LINE  "Saisissez le numéro et la rue."
#define NGX_HTTP_PORTAL_M_POSTCODE  "Le code postal compte 5 chiffres."
#define NGX_HTTP_PORTAL_M_CITY  "Saisissez la commune."
#define NGX_HTTP_PORTAL_M_KIND                                               \
    "Précisez s’il s’agit d’un adulte (adult) ou d’un enfant (child)."
#define NGX_HTTP_PORTAL_M_MEMBERS                                            \
    "Les membres du foyer sont une liste (20 au plus)."


/* an account */

#define NGX_HTTP_PORTAL_M_CONTACT_MODE                                       \
    "Choisissez un mode de contact : courriel, téléphone ou courrier."
#define NGX_HTTP_PORTAL_M_CONTACT_PHONE                                      \
    "Le contact par téléphone demande un numéro de téléphone."
#define NGX_HTTP_PORTAL_M_QUESTION  "Choisissez une question dans la liste."
#define NGX_HTTP_PORTAL_M_ANSWER                                             \
    "Saisissez la réponse à la question choisie."
#define NGX_HTTP_PORTAL_M_LOGIN_LETTERS                                      \
    "Le prénom et le nom doivent contenir des lettres."
#define NGX_HTTP_PORTAL_M_NOTHING_TO_CHANGE                                  \
    "Rien à modifier : envoyez « holder » ou « contact_mode »."
#define NGX_HTTP_PORTAL_M_EMAIL_PASSWORD                                     \
    "Saisissez votre mot de passe actuel pour changer d’adresse"             \
    " électronique."
#define NGX_HTTP_PORTAL_M_MEMBERS_LIMIT                                      \
    "Votre foyer compte déjà 20 membres : c’est le nombre maximal."
#define NGX_HTTP_PORTAL_M_LIMIT_REACHED                                      \
    "La limite est atteinte : rien n’a été ajouté."


/* passwords */

#define NGX_HTTP_PORTAL_M_PASSWORD_NONE  "Choisissez un mot de passe."
#define NGX_HTTP_PORTAL_M_PASSWORD_LONG                                      \
    "Le mot de passe ne peut dépasser 128 caractères."
#define NGX_HTTP_PORTAL_M_PASSWORD_CHARS                                     \
    "Le mot de passe contient des caractères non admis."
#define NGX_HTTP_PORTAL_M_PASSWORD_SHORT                                     \
    "Le mot de passe doit compter au moins 12 caractères."
#define NGX_HTTP_PORTAL_M_PASSWORD_COMMON                                    \
    "Ce mot de passe fait partie des plus courants : choisissez-en un"       \
    " autre."
#define NGX_HTTP_PORTAL_M_PASSWORD_PERSONAL                                  \
    "Le mot de passe ne doit être ni votre identifiant ni votre nom."
#define NGX_HTTP_PORTAL_M_PASSWORD_CONFIRM                                   \
    "Les deux mots de passe saisis diffèrent."
#define NGX_HTTP_PORTAL_M_PASSWORD_NEW  "Choisissez un nouveau mot de passe."
#define NGX_HTTP_PORTAL_M_PASSWORD_CURRENT                                   \
    "Saisissez votre mot de passe actuel."
#define NGX_HTTP_PORTAL_M_PASSWORD_CURRENT_WRONG                             \
    "Mot de passe actuel incorrect."
#define NGX_HTTP_PORTAL_M_PASSWORD_UNCHANGED                                 \
    "Le mot de passe n’a pas été changé."

#define NGX_HTTP_PORTAL_M_LOGIN  "Saisissez votre identifiant."
#define NGX_HTTP_PORTAL_M_PASSWORD  "Saisissez votre mot de passe."
#define NGX_HTTP_PORTAL_M_LOGIN_NEEDED                                       \
    "Identifiant et mot de passe sont nécessaires."
#define NGX_HTTP_PORTAL_M_RESET_ANSWER  "Saisissez la réponse à votre question."
#define NGX_HTTP_PORTAL_M_RESET_NEEDED                                       \
    "Identifiant et réponse sont nécessaires."
#define NGX_HTTP_PORTAL_M_RESET_SENT                                         \
    "Si votre réponse est juste, un courriel vous apporte un mot de passe"   \
    " temporaire, valable 30 minutes. Rien reçu d’ici quelques minutes ?"    \
    " Regardez dans vos courriers indésirables, puis vérifiez votre"         \
    " réponse et recommencez, ou contactez la Mairie."
#define NGX_HTTP_PORTAL_M_QUESTIONS_LIMIT                                    \
    "Trop de questions demandées depuis votre connexion : réessayez dans"    \
    " un quart d’heure."


/* documents */

#define NGX_HTTP_PORTAL_M_MULTIPART_TYPE                                     \
    "Le document doit être envoyé en multipart/form-data."
#define NGX_HTTP_PORTAL_M_BAD_MULTIPART                                      \
    "L’envoi du document est mal formé : merci de réessayer depuis le"       \
    " formulaire."
#define NGX_HTTP_PORTAL_M_FILE_MISSING                                       \
    "Joignez le document (PDF, JPEG ou PNG)."
#define NGX_HTTP_PORTAL_M_FILE_TWICE  "Envoyez un seul document à la fois."
#define NGX_HTTP_PORTAL_M_FILE_EMPTY  "Le document est vide."
#define NGX_HTTP_PORTAL_M_FILE_KIND  "Indiquez de quelle pièce il s’agit."
#define NGX_HTTP_PORTAL_M_FILE_KIND_LONG                                     \
    "Le type de pièce ne peut pas dépasser 64 caractères."
#define NGX_HTTP_PORTAL_M_FILE_KIND_CHARS                                    \
    "Le type de pièce contient des caractères invalides."
#define NGX_HTTP_PORTAL_M_FILE_INVALID                                       \
    "Le document n’a pas pu être enregistré : vérifiez les champs"           \
    " signalés."
#define NGX_HTTP_PORTAL_M_FILE_TYPE                                          \
    "Le document doit être un PDF, une image JPEG ou PNG."
#define NGX_HTTP_PORTAL_M_FILE_TOO_LARGE                                     \
    "Le document dépasse la taille maximale de %uz %s."
#define NGX_HTTP_PORTAL_M_DOCUMENTS_LIMIT                                    \
    "Votre compte a déjà 20 documents ou 50 Mo de documents : supprimez-en"  \
    " un avant d’en déposer un autre."
#define NGX_HTTP_PORTAL_M_DOCUMENT_CHANGED                                   \
    "Le document a changé pendant son envoi : merci de le déposer à"         \
    " nouveau."


/* the catalog, requests */

#define NGX_HTTP_PORTAL_M_PROCEDURE_NOT_FOUND                                \
    "Cette démarche n’existe pas ou n’est plus proposée en ligne."
#define NGX_HTTP_PORTAL_M_PROCEDURE  "Choisissez une démarche."
#define NGX_HTTP_PORTAL_M_PROCEDURE_UNKNOWN                                  \
    "Cette démarche n’existe pas ou n’est plus proposée en ligne."
#define NGX_HTTP_PORTAL_M_REQUEST_NOT_FOUND  "Cette demande est introuvable."
#define NGX_HTTP_PORTAL_M_REQUEST_MEMBER                                     \
    "Choisissez une personne de votre foyer."
#define NGX_HTTP_PORTAL_M_REQUEST_MEMBER_KIND                                \
    "Cette démarche ne concerne pas cette personne : choisissez un adulte"   \
    " ou un enfant du foyer, selon ce qui est demandé."
#define NGX_HTTP_PORTAL_M_REQUEST_MEMBER_MISSING                             \
    "Choisissez la personne concernée par la démarche."
#define NGX_HTTP_PORTAL_M_REQUEST_NO_MEMBER                                  \
    "Cette démarche ne concerne pas un membre du foyer."
#define NGX_HTTP_PORTAL_M_REQUEST_PREFILL                                    \
    "Remplissez ce champ : votre compte ne le donne pas."
#define NGX_HTTP_PORTAL_M_REQUEST_ACCOUNT                                    \
    "Cette démarche demande un compte : connectez-vous, ou demandez qu’un"   \
    " compte soit créé avec votre demande."
#define NGX_HTTP_PORTAL_M_REQUEST_STATE                                      \
    "Dans son état actuel, cette demande ne peut plus être modifiée ainsi."
#define NGX_HTTP_PORTAL_M_REQUESTS_LIMIT                                     \
    "La limite est un nombre entier de 1 à 100."
#define NGX_HTTP_PORTAL_M_FOLLOW_UP                                          \
    "Indiquez si vous souhaitez un compte pour suivre votre demande."
#define NGX_HTTP_PORTAL_M_IDEMPOTENCY_KEY                                    \
    "L’en-tête Idempotency-Key doit compter de 1 à 255 caractères visibles."
#define NGX_HTTP_PORTAL_M_IDEMPOTENCY_RUNNING                                \
    "La même demande est déjà en cours : patientez un instant."
#define NGX_HTTP_PORTAL_M_IDEMPOTENCY_MISMATCH                               \
    "Cette clé d’idempotence a déjà servi pour une autre demande."


/* a request's supporting documents */

#define NGX_HTTP_PORTAL_M_REQUEST_DOCUMENT_KIND                              \
    "Cette pièce n’est pas demandée pour cette démarche : choisissez-en une" \
    " de la liste, ou « autre »."
#define NGX_HTTP_PORTAL_M_REQUEST_DOCUMENTS_LIMIT                            \
    "Cette demande a déjà 20 pièces ou 50 Mo de pièces : supprimez-en une"   \
    " avant d’en déposer une autre."

/* a request's PDF */

#define NGX_HTTP_PORTAL_M_REQUEST_NO_PDF                                     \
    "Le récapitulatif PDF n’est pas encore disponible : tant que votre"      \
    " demande peut être modifiée, consultez-la en ligne. Il le sera dès"     \
    " qu’elle sera en cours de traitement."


/* the agents' API (/admin/api/) */

#define NGX_HTTP_PORTAL_M_AGENT_UNAUTHENTICATED                              \
    "Connectez-vous à l’espace des agents."
#define NGX_HTTP_PORTAL_M_AGENT_ROLE                                         \
    "Cette action est réservée aux administrateurs."
#define NGX_HTTP_PORTAL_M_AGENT_PAGE                                         \
    "Cette page de la liste n’existe pas : reprenez la liste au début."
#define NGX_HTTP_PORTAL_M_AGENT_ARG_UNKNOWN                                  \
    "Ce paramètre n’est pas accepté à cette adresse."
#define NGX_HTTP_PORTAL_M_AGENT_ARG_TWICE                                    \
    "Ce paramètre est donné deux fois."
#define NGX_HTTP_PORTAL_M_AGENT_ARG_TEXT                                     \
    "Ce filtre est trop long ou contient des caractères non acceptés."
#define NGX_HTTP_PORTAL_M_AGENT_ARG_BOOLEAN  "Indiquez true ou false."
#define NGX_HTTP_PORTAL_M_AGENT_ARG_LIMIT                                    \
    "Indiquez un nombre d’éléments entre 1 et 200."
#define NGX_HTTP_PORTAL_M_AGENT_ARG_UUID  "Cet identifiant n’est pas valide."
#define NGX_HTTP_PORTAL_M_AGENT_FILTER  "Cette valeur n’est pas acceptée ici."
#define NGX_HTTP_PORTAL_M_ACCOUNT_NOT_FOUND  "Ce compte est introuvable."
#define NGX_HTTP_PORTAL_M_ACCOUNT_VALIDATED                                  \
    "Ce compte a déjà été validé."
#define NGX_HTTP_PORTAL_M_AGENT_QUEUE_STATE  "Cet état n’existe pas."
#define NGX_HTTP_PORTAL_M_AGENT_QUEUE_PROCEDURE                              \
    "Cette démarche n’existe pas."
#define NGX_HTTP_PORTAL_M_AGENT_QUEUE_THEME  "Ce thème n’existe pas."
#define NGX_HTTP_PORTAL_M_AGENT_QUEUE_Q                                      \
    "Saisissez de 2 à 100 caractères : une référence ou un nom."
#define NGX_HTTP_PORTAL_M_AGENT_TRANSITION_TO                                \
    "Indiquez l’état où passe la demande."
#define NGX_HTTP_PORTAL_M_AGENT_REQUEST_STATE                                \
    "Cette demande a changé d’état entre-temps : rechargez-la."
#define NGX_HTTP_PORTAL_M_AGENT_TRANSITION                                   \
    "Cette demande ne peut pas passer dans cet état depuis son état actuel."
#define NGX_HTTP_PORTAL_M_AGENT_MOTIVE                                       \
    "Indiquez le motif (2000 caractères au plus)."
#define NGX_HTTP_PORTAL_M_AGENT_STATE_TEXT  "Indiquez l’état que vous voyiez."
#define NGX_HTTP_PORTAL_M_AGENT_MESSAGE_TEXT                                 \
    "Le message ne peut dépasser 5000 caractères."
#define NGX_HTTP_PORTAL_M_MESSAGE_KIND                                       \
    "Choisissez information ou décision."
#define NGX_HTTP_PORTAL_M_MESSAGE_BODY                                       \
    "Écrivez le message (5000 caractères au plus)."
#define NGX_HTTP_PORTAL_M_MESSAGE_SEND_AT                                    \
    "Indiquez une date et une heure ISO 8601 (2026-03-12T09:00:00+01:00),"   \
    " dans l’année qui vient ; une décision part tout de suite."
#define NGX_HTTP_PORTAL_M_MESSAGE_NOT_FOUND  "Ce message est introuvable."
#define NGX_HTTP_PORTAL_M_MESSAGE_SENT                                       \
    "Ce message est déjà parti ou annulé : il ne peut plus l’être."
#define NGX_HTTP_PORTAL_M_LETTER_NOT_FOUND  "Ce courrier est introuvable."
#define NGX_HTTP_PORTAL_M_LETTER_PRINTED  "Ce courrier est déjà imprimé."
#define NGX_HTTP_PORTAL_M_CALL_NOT_FOUND  "Cet appel est introuvable."
#define NGX_HTTP_PORTAL_M_CALL_DONE  "Cet appel a déjà été passé."
#define NGX_HTTP_PORTAL_M_CALL_NOTE                                          \
    "La note ne peut dépasser 500 caractères."
#define NGX_HTTP_PORTAL_M_MAIL_NOT_FOUND  "Ce courriel est introuvable."
#define NGX_HTTP_PORTAL_M_OUTBOX_STATE                                       \
    "Seul un courriel en échec peut être renvoyé."
#define NGX_HTTP_PORTAL_M_OUTBOX_FILTER                                      \
    "Choisissez failed, pending ou sent."


#endif /* _NGX_HTTP_PORTAL_MESSAGES_H_INCLUDED_ */
