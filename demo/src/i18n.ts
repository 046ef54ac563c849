/**
 * The page's words in four languages. The language is a preference stored in
 * the store (`prefs:language`), so switching it on one device translates the
 * page on every other. Static text carries `data-i18n="<key>"` (and
 * `data-i18n-placeholder`, `data-i18n-title`, `data-i18n-aria-label`);
 * dynamic text calls `t(key, params)`.
 */

const en = {
  'app.title': 'TideKV demo',
  'brand.tag': 'demo',
  'hero.title': 'One store, every tab and device.',
  'hero.lead':
    'Everything on this page lives in one TideKV store: reads come from memory, writes survive reloads in IndexedDB and sync through the relay. Open the page in another tab or another browser, or go offline, and watch it converge.',
  'hero.openTab': 'Open another tab',
  'hero.console': 'In the console:',
  'hero.here': 'Here now',
  'hero.you': 'you',
  'hero.thisTab': 'this tab',
  'hero.tabs.one': '{n} tab',
  'hero.tabs.other': '{n} tabs',

  'status.label': 'Connection',
  'status.local': 'local only',
  'status.offline': 'offline',
  'status.connecting': 'connecting',
  'status.syncing': 'syncing',
  'status.synced': 'synced',
  'status.workOffline': 'Work offline',
  'status.presence.tabs.one': '{n} tab',
  'status.presence.tabs.other': '{n} tabs',
  'status.presence.devices.one': '{n} device',
  'status.presence.devices.other': '{n} devices',
  'status.presence.title': 'Tabs and devices with this page open (presence:* keys, 15 s TTL)',
  'status.saved.idle': 'No changes yet',
  'status.saved.pending': 'Saving to the relay…',
  'status.saved.waiting': 'Kept on this device',
  'status.saved.saved': 'Saved on the relay',
  'status.saved.local': 'Saved on this device',

  'banner.manual': 'You are working offline.',
  'banner.network': 'You are offline.',
  'banner.relay': 'The relay cannot be reached.',
  'banner.detail': 'Everything keeps working: changes are stored on this device and sync when the connection is back.',
  'banner.goOnline': 'Go online',

  'prefs.title': 'Preferences',
  'prefs.lead': 'Applied live, on every tab and device.',
  'prefs.theme': 'Theme',
  'prefs.theme.auto': 'Auto',
  'prefs.theme.light': 'Light',
  'prefs.theme.dark': 'Dark',
  'prefs.language': 'Language',
  'prefs.fontSize': 'Font size',

  'session.title': 'Session',
  'session.lead': 'A key with a TTL: it expires everywhere at once.',
  'session.none': 'No session',
  'session.noneDetail': 'Start one: it lives {s} s, on every device.',
  'session.active': 'Signed in as {user}',
  'session.startedOn': 'Started on {device} at {time}',
  'session.thisDevice': 'this device',
  'session.noExpiry': 'No expiry (someone removed its TTL)',
  'session.expired': 'The session expired.',
  'session.ended': 'The session ended.',
  'session.start': 'Start session ({s} s)',
  'session.extend': 'Extend',
  'session.end': 'End',
  'session.secondsLeft': 'seconds left',

  'rate.title': 'Rate limiter',
  'rate.lead': '{limit} calls per {window} s, counted on every device, even offline.',
  'rate.call': 'Call the API',
  'rate.count': 'calls in this window',
  'rate.resetsIn': 'window resets in {t}',
  'rate.noWindow': 'no window open',
  'rate.idle': 'Press the button to call the API.',
  'rate.allowed': 'Allowed: call {n} of {limit}',
  'rate.blocked': 'Blocked: {n} calls in this window (limit {limit})',
  'rate.logAllowed': 'allowed',
  'rate.logBlocked': 'blocked',

  'kb.title': 'Key browser',
  'kb.lead': 'Every key in the store, with its value and TTL, updated live as tabs and devices write.',
  'kb.count.one': '{n} key',
  'kb.count.other': '{n} keys',
  'kb.prefix': 'Filter by prefix, e.g. prefs:',
  'kb.key': 'Key',
  'kb.value': 'Value',
  'kb.ttl': 'TTL',
  'kb.noExpiry': 'none',
  'kb.expired': 'expired',
  'kb.edit': 'Edit',
  'kb.delete': 'Delete',
  'kb.empty': 'No keys here yet.',
  'kb.emptyPrefix': 'No keys start with “{prefix}”.',
  'kb.more': 'Show more',
  'kb.add': 'Add a key',
  'kb.editing': 'Edit “{key}”',
  'kb.valueLabel': 'Value (JSON)',
  'kb.ttlLabel': 'TTL in seconds (empty: no expiry)',
  'kb.save': 'Save',
  'kb.new': 'New key',
  'kb.saved': 'Saved “{key}”.',
  'kb.deleted': 'Deleted “{key}”.',
  'kb.invalidJson': 'Invalid JSON: {message}',
  'kb.bytes': 'This value holds bytes (a Uint8Array): it cannot be edited as JSON.',
  'kb.ttlNotNumber': 'The TTL must be a number of seconds.',
  'kb.structure': '{type} · size {n}',

  'lb.title': 'Leaderboard',
  'lb.lead': 'Points scored on every device all count, even offline.',
  'lb.player': 'Player',
  'lb.set': 'Set score',
  'lb.count.one': '{n} player',
  'lb.count.other': '{n} players',
  'lb.empty': 'No scores yet: press +1.',
  'lb.me': '{player}: rank {rank} of {total}, score {score}',
  'lb.meNone': '{player} has no points yet.',
  'lb.reset': 'Reset {player} to 0',
  'lb.invalidScore': 'The score must be a number.',

  'activity.title': 'Activity',
  'activity.lead': 'What happened on every device, newest first: a stream, kept to its last 200 entries.',
  'activity.count.one': '{n} entry',
  'activity.count.other': '{n} entries',
  'activity.empty': 'Nothing yet: score a point or change a preference.',
  'activity.someone': 'Someone',
  'activity.score': '+{by} for {player}',
  'activity.setScore': 'set {player} to {score}',
  'activity.pref.theme': 'chose the {value} theme',
  'activity.pref.language': 'switched the language to {value}',
  'activity.pref.fontSize': 'set the font size to {value} px',
  'activity.session.start': 'started a session',
  'activity.session.extend': 'extended the session',
  'activity.session.end': 'ended the session',
  'activity.rate.allowed': 'called the API (#{n}, allowed)',
  'activity.rate.blocked': 'called the API (#{n}, blocked)',
  'activity.keySet': 'saved the key {key}',
  'activity.keyDelete': 'deleted the key {key}',

  'origin.tab': 'another tab',
  'origin.remote': 'another device',

  'sw.installing': 'Preparing offline use…',
  'sw.ready': 'Works offline',
  'sw.unsupported': 'No offline support here',
  'sw.dev': 'Service worker off in development',
  'sw.update': 'A new version of the demo is ready.',
  'sw.reload': 'Reload',
  'footer.store': 'Store',
  'footer.device': 'This device',

  'error.open': 'The store could not be opened.',
  'error.background': 'Background error',
}

export type MessageKey = keyof typeof en
type Messages = Record<MessageKey, string>

const fr: Messages = {
  'app.title': 'Démo TideKV',
  'brand.tag': 'démo',
  'hero.title': 'Un seul store, sur tous les onglets et appareils.',
  'hero.lead':
    'Tout ce qui est sur cette page vit dans un store TideKV : les lectures viennent de la mémoire, les écritures survivent aux rechargements dans IndexedDB et se synchronisent via le relais. Ouvrez la page dans un autre onglet ou un autre navigateur, ou passez hors ligne, et regardez-la converger.',
  'hero.openTab': 'Ouvrir un autre onglet',
  'hero.console': 'Dans la console :',
  'hero.here': 'Présents',
  'hero.you': 'vous',
  'hero.thisTab': 'cet onglet',
  'hero.tabs.one': '{n} onglet',
  'hero.tabs.other': '{n} onglets',

  'status.label': 'Connexion',
  'status.local': 'local uniquement',
  'status.offline': 'hors ligne',
  'status.connecting': 'connexion',
  'status.syncing': 'synchronisation',
  'status.synced': 'synchronisé',
  'status.workOffline': 'Travailler hors ligne',
  'status.presence.tabs.one': '{n} onglet',
  'status.presence.tabs.other': '{n} onglets',
  'status.presence.devices.one': '{n} appareil',
  'status.presence.devices.other': '{n} appareils',
  'status.presence.title': 'Onglets et appareils où la page est ouverte (clés presence:*, TTL de 15 s)',
  'status.saved.idle': 'Aucune modification',
  'status.saved.pending': 'Enregistrement sur le relais…',
  'status.saved.waiting': 'Gardé sur cet appareil',
  'status.saved.saved': 'Enregistré sur le relais',
  'status.saved.local': 'Enregistré sur cet appareil',

  'banner.manual': 'Vous travaillez hors ligne.',
  'banner.network': 'Vous êtes hors ligne.',
  'banner.relay': 'Le relais est injoignable.',
  'banner.detail': 'Tout continue de fonctionner : les modifications sont gardées sur cet appareil et se synchronisent au retour de la connexion.',
  'banner.goOnline': 'Repasser en ligne',

  'prefs.title': 'Préférences',
  'prefs.lead': 'Appliquées en direct, sur chaque onglet et appareil.',
  'prefs.theme': 'Thème',
  'prefs.theme.auto': 'Auto',
  'prefs.theme.light': 'Clair',
  'prefs.theme.dark': 'Sombre',
  'prefs.language': 'Langue',
  'prefs.fontSize': 'Taille du texte',

  'session.title': 'Session',
  'session.lead': 'Une clé avec un TTL : elle expire partout en même temps.',
  'session.none': 'Aucune session',
  'session.noneDetail': 'Démarrez-en une : elle dure {s} s, sur chaque appareil.',
  'session.active': 'Connecté en tant que {user}',
  'session.startedOn': 'Démarrée sur {device} à {time}',
  'session.thisDevice': 'cet appareil',
  'session.noExpiry': 'Sans expiration (son TTL a été retiré)',
  'session.expired': 'La session a expiré.',
  'session.ended': 'La session est terminée.',
  'session.start': 'Démarrer une session ({s} s)',
  'session.extend': 'Prolonger',
  'session.end': 'Terminer',
  'session.secondsLeft': 'secondes restantes',

  'rate.title': 'Limiteur de débit',
  'rate.lead': '{limit} appels par {window} s, comptés sur chaque appareil, même hors ligne.',
  'rate.call': 'Appeler l’API',
  'rate.count': 'appels dans cette fenêtre',
  'rate.resetsIn': 'réinitialisation dans {t}',
  'rate.noWindow': 'aucune fenêtre ouverte',
  'rate.idle': 'Appuyez sur le bouton pour appeler l’API.',
  'rate.allowed': 'Autorisé : appel {n} sur {limit}',
  'rate.blocked': 'Bloqué : {n} appels dans cette fenêtre (limite {limit})',
  'rate.logAllowed': 'autorisé',
  'rate.logBlocked': 'bloqué',

  'kb.title': 'Explorateur de clés',
  'kb.lead': 'Toutes les clés du store, avec leur valeur et leur TTL, mises à jour en direct quand les onglets et appareils écrivent.',
  'kb.count.one': '{n} clé',
  'kb.count.other': '{n} clés',
  'kb.prefix': 'Filtrer par préfixe, ex. prefs:',
  'kb.key': 'Clé',
  'kb.value': 'Valeur',
  'kb.ttl': 'TTL',
  'kb.noExpiry': 'aucun',
  'kb.expired': 'expirée',
  'kb.edit': 'Modifier',
  'kb.delete': 'Supprimer',
  'kb.empty': 'Aucune clé pour l’instant.',
  'kb.emptyPrefix': 'Aucune clé ne commence par « {prefix} ».',
  'kb.more': 'Afficher plus',
  'kb.add': 'Ajouter une clé',
  'kb.editing': 'Modifier « {key} »',
  'kb.valueLabel': 'Valeur (JSON)',
  'kb.ttlLabel': 'TTL en secondes (vide : sans expiration)',
  'kb.save': 'Enregistrer',
  'kb.new': 'Nouvelle clé',
  'kb.saved': '« {key} » enregistrée.',
  'kb.deleted': '« {key} » supprimée.',
  'kb.invalidJson': 'JSON invalide : {message}',
  'kb.bytes': 'Cette valeur contient des octets (un Uint8Array) : elle ne peut pas être modifiée en JSON.',
  'kb.ttlNotNumber': 'Le TTL doit être un nombre de secondes.',
  'kb.structure': '{type} · taille {n}',

  'lb.title': 'Classement',
  'lb.lead': 'Les points marqués sur chaque appareil comptent tous, même hors ligne.',
  'lb.player': 'Joueur',
  'lb.set': 'Fixer le score',
  'lb.count.one': '{n} joueur',
  'lb.count.other': '{n} joueurs',
  'lb.empty': 'Aucun score pour l’instant : appuyez sur +1.',
  'lb.me': '{player} : rang {rank} sur {total}, score {score}',
  'lb.meNone': '{player} n’a pas encore de points.',
  'lb.reset': 'Remettre {player} à 0',
  'lb.invalidScore': 'Le score doit être un nombre.',

  'activity.title': 'Activité',
  'activity.lead': 'Ce qui s’est passé sur chaque appareil, du plus récent au plus ancien : un stream, limité à ses 200 dernières entrées.',
  'activity.count.one': '{n} entrée',
  'activity.count.other': '{n} entrées',
  'activity.empty': 'Rien pour l’instant : marquez un point ou changez une préférence.',
  'activity.someone': 'Quelqu’un',
  'activity.score': '+{by} pour {player}',
  'activity.setScore': 'a mis {player} à {score}',
  'activity.pref.theme': 'a choisi le thème {value}',
  'activity.pref.language': 'a choisi la langue {value}',
  'activity.pref.fontSize': 'a réglé la taille du texte à {value} px',
  'activity.session.start': 'a ouvert une session',
  'activity.session.extend': 'a prolongé la session',
  'activity.session.end': 'a fermé la session',
  'activity.rate.allowed': 'a appelé l’API (n° {n}, autorisé)',
  'activity.rate.blocked': 'a appelé l’API (n° {n}, bloqué)',
  'activity.keySet': 'a enregistré la clé {key}',
  'activity.keyDelete': 'a supprimé la clé {key}',

  'origin.tab': 'un autre onglet',
  'origin.remote': 'un autre appareil',

  'sw.installing': 'Préparation du mode hors ligne…',
  'sw.ready': 'Fonctionne hors ligne',
  'sw.unsupported': 'Pas de mode hors ligne ici',
  'sw.dev': 'Service worker désactivé en développement',
  'sw.update': 'Une nouvelle version de la démo est prête.',
  'sw.reload': 'Recharger',
  'footer.store': 'Store',
  'footer.device': 'Cet appareil',

  'error.open': 'Le store n’a pas pu être ouvert.',
  'error.background': 'Erreur en arrière-plan',
}

const de: Messages = {
  'app.title': 'TideKV-Demo',
  'brand.tag': 'Demo',
  'hero.title': 'Ein Store, alle Tabs und Geräte.',
  'hero.lead':
    'Alles auf dieser Seite liegt in einem TideKV-Store: Lesen geht aus dem Speicher, Schreiben übersteht Neuladen in IndexedDB und wird über das Relay synchronisiert. Öffne die Seite in einem anderen Tab oder Browser oder geh offline und sieh zu, wie alles zusammenläuft.',
  'hero.openTab': 'Weiteren Tab öffnen',
  'hero.console': 'In der Konsole:',
  'hero.here': 'Gerade da',
  'hero.you': 'du',
  'hero.thisTab': 'dieser Tab',
  'hero.tabs.one': '{n} Tab',
  'hero.tabs.other': '{n} Tabs',

  'status.label': 'Verbindung',
  'status.local': 'nur lokal',
  'status.offline': 'offline',
  'status.connecting': 'verbinde',
  'status.syncing': 'synchronisiere',
  'status.synced': 'synchron',
  'status.workOffline': 'Offline arbeiten',
  'status.presence.tabs.one': '{n} Tab',
  'status.presence.tabs.other': '{n} Tabs',
  'status.presence.devices.one': '{n} Gerät',
  'status.presence.devices.other': '{n} Geräte',
  'status.presence.title': 'Tabs und Geräte, auf denen die Seite offen ist (presence:*-Schlüssel, 15 s TTL)',
  'status.saved.idle': 'Noch keine Änderungen',
  'status.saved.pending': 'Speichere auf dem Relay…',
  'status.saved.waiting': 'Auf diesem Gerät gespeichert',
  'status.saved.saved': 'Auf dem Relay gespeichert',
  'status.saved.local': 'Auf diesem Gerät gespeichert',

  'banner.manual': 'Du arbeitest offline.',
  'banner.network': 'Du bist offline.',
  'banner.relay': 'Das Relay ist nicht erreichbar.',
  'banner.detail': 'Alles funktioniert weiter: Änderungen bleiben auf diesem Gerät und werden synchronisiert, sobald die Verbindung zurück ist.',
  'banner.goOnline': 'Online gehen',

  'prefs.title': 'Einstellungen',
  'prefs.lead': 'Sofort angewendet, auf jedem Tab und Gerät.',
  'prefs.theme': 'Design',
  'prefs.theme.auto': 'Auto',
  'prefs.theme.light': 'Hell',
  'prefs.theme.dark': 'Dunkel',
  'prefs.language': 'Sprache',
  'prefs.fontSize': 'Schriftgröße',

  'session.title': 'Sitzung',
  'session.lead': 'Ein Schlüssel mit TTL: Er läuft überall gleichzeitig ab.',
  'session.none': 'Keine Sitzung',
  'session.noneDetail': 'Starte eine: Sie lebt {s} s, auf jedem Gerät.',
  'session.active': 'Angemeldet als {user}',
  'session.startedOn': 'Gestartet auf {device} um {time}',
  'session.thisDevice': 'diesem Gerät',
  'session.noExpiry': 'Ohne Ablauf (jemand hat die TTL entfernt)',
  'session.expired': 'Die Sitzung ist abgelaufen.',
  'session.ended': 'Die Sitzung wurde beendet.',
  'session.start': 'Sitzung starten ({s} s)',
  'session.extend': 'Verlängern',
  'session.end': 'Beenden',
  'session.secondsLeft': 'Sekunden übrig',

  'rate.title': 'Rate-Limiter',
  'rate.lead': '{limit} Aufrufe pro {window} s, gezählt auf jedem Gerät, auch offline.',
  'rate.call': 'API aufrufen',
  'rate.count': 'Aufrufe in diesem Fenster',
  'rate.resetsIn': 'Fenster endet in {t}',
  'rate.noWindow': 'kein offenes Fenster',
  'rate.idle': 'Drück den Knopf, um die API aufzurufen.',
  'rate.allowed': 'Erlaubt: Aufruf {n} von {limit}',
  'rate.blocked': 'Blockiert: {n} Aufrufe in diesem Fenster (Limit {limit})',
  'rate.logAllowed': 'erlaubt',
  'rate.logBlocked': 'blockiert',

  'kb.title': 'Schlüssel-Browser',
  'kb.lead': 'Alle Schlüssel des Stores mit Wert und TTL, live aktualisiert, wenn Tabs und Geräte schreiben.',
  'kb.count.one': '{n} Schlüssel',
  'kb.count.other': '{n} Schlüssel',
  'kb.prefix': 'Nach Präfix filtern, z. B. prefs:',
  'kb.key': 'Schlüssel',
  'kb.value': 'Wert',
  'kb.ttl': 'TTL',
  'kb.noExpiry': 'keine',
  'kb.expired': 'abgelaufen',
  'kb.edit': 'Bearbeiten',
  'kb.delete': 'Löschen',
  'kb.empty': 'Noch keine Schlüssel.',
  'kb.emptyPrefix': 'Kein Schlüssel beginnt mit „{prefix}“.',
  'kb.more': 'Mehr anzeigen',
  'kb.add': 'Schlüssel hinzufügen',
  'kb.editing': '„{key}“ bearbeiten',
  'kb.valueLabel': 'Wert (JSON)',
  'kb.ttlLabel': 'TTL in Sekunden (leer: kein Ablauf)',
  'kb.save': 'Speichern',
  'kb.new': 'Neuer Schlüssel',
  'kb.saved': '„{key}“ gespeichert.',
  'kb.deleted': '„{key}“ gelöscht.',
  'kb.invalidJson': 'Ungültiges JSON: {message}',
  'kb.bytes': 'Dieser Wert enthält Bytes (ein Uint8Array) und kann nicht als JSON bearbeitet werden.',
  'kb.ttlNotNumber': 'Die TTL muss eine Zahl von Sekunden sein.',
  'kb.structure': '{type} · Größe {n}',

  'lb.title': 'Bestenliste',
  'lb.lead': 'Punkte von jedem Gerät zählen alle, auch offline.',
  'lb.player': 'Spieler',
  'lb.set': 'Punkte setzen',
  'lb.count.one': '{n} Spieler',
  'lb.count.other': '{n} Spieler',
  'lb.empty': 'Noch keine Punkte: drücke +1.',
  'lb.me': '{player}: Platz {rank} von {total}, Punktzahl {score}',
  'lb.meNone': '{player} hat noch keine Punkte.',
  'lb.reset': '{player} auf 0 setzen',
  'lb.invalidScore': 'Die Punktzahl muss eine Zahl sein.',

  'activity.title': 'Aktivität',
  'activity.lead': 'Was auf jedem Gerät geschah, neueste zuerst: ein Stream, auf die letzten 200 Einträge gekürzt.',
  'activity.count.one': '{n} Eintrag',
  'activity.count.other': '{n} Einträge',
  'activity.empty': 'Noch nichts: hol einen Punkt oder ändere eine Einstellung.',
  'activity.someone': 'Jemand',
  'activity.score': '+{by} für {player}',
  'activity.setScore': 'setzte {player} auf {score}',
  'activity.pref.theme': 'wählte das Design {value}',
  'activity.pref.language': 'wählte die Sprache {value}',
  'activity.pref.fontSize': 'stellte die Schriftgröße auf {value} px',
  'activity.session.start': 'startete eine Sitzung',
  'activity.session.extend': 'verlängerte die Sitzung',
  'activity.session.end': 'beendete die Sitzung',
  'activity.rate.allowed': 'rief die API auf (#{n}, erlaubt)',
  'activity.rate.blocked': 'rief die API auf (#{n}, blockiert)',
  'activity.keySet': 'speicherte den Schlüssel {key}',
  'activity.keyDelete': 'löschte den Schlüssel {key}',

  'origin.tab': 'anderer Tab',
  'origin.remote': 'anderes Gerät',

  'sw.installing': 'Offline-Nutzung wird vorbereitet…',
  'sw.ready': 'Funktioniert offline',
  'sw.unsupported': 'Hier keine Offline-Unterstützung',
  'sw.dev': 'Service Worker in der Entwicklung aus',
  'sw.update': 'Eine neue Version der Demo ist bereit.',
  'sw.reload': 'Neu laden',
  'footer.store': 'Store',
  'footer.device': 'Dieses Gerät',

  'error.open': 'Der Store konnte nicht geöffnet werden.',
  'error.background': 'Fehler im Hintergrund',
}

const es: Messages = {
  'app.title': 'Demo de TideKV',
  'brand.tag': 'demo',
  'hero.title': 'Un store, en todas las pestañas y dispositivos.',
  'hero.lead':
    'Todo en esta página vive en un store de TideKV: las lecturas salen de la memoria, las escrituras sobreviven a las recargas en IndexedDB y se sincronizan a través del relay. Abre la página en otra pestaña u otro navegador, o desconéctate, y mira cómo converge.',
  'hero.openTab': 'Abrir otra pestaña',
  'hero.console': 'En la consola:',
  'hero.here': 'Aquí ahora',
  'hero.you': 'tú',
  'hero.thisTab': 'esta pestaña',
  'hero.tabs.one': '{n} pestaña',
  'hero.tabs.other': '{n} pestañas',

  'status.label': 'Conexión',
  'status.local': 'solo local',
  'status.offline': 'sin conexión',
  'status.connecting': 'conectando',
  'status.syncing': 'sincronizando',
  'status.synced': 'sincronizado',
  'status.workOffline': 'Trabajar sin conexión',
  'status.presence.tabs.one': '{n} pestaña',
  'status.presence.tabs.other': '{n} pestañas',
  'status.presence.devices.one': '{n} dispositivo',
  'status.presence.devices.other': '{n} dispositivos',
  'status.presence.title': 'Pestañas y dispositivos con la página abierta (claves presence:*, TTL de 15 s)',
  'status.saved.idle': 'Sin cambios todavía',
  'status.saved.pending': 'Guardando en el relay…',
  'status.saved.waiting': 'Guardado en este dispositivo',
  'status.saved.saved': 'Guardado en el relay',
  'status.saved.local': 'Guardado en este dispositivo',

  'banner.manual': 'Estás trabajando sin conexión.',
  'banner.network': 'Estás sin conexión.',
  'banner.relay': 'No se puede contactar con el relay.',
  'banner.detail': 'Todo sigue funcionando: los cambios se guardan en este dispositivo y se sincronizan cuando vuelva la conexión.',
  'banner.goOnline': 'Conectarse',

  'prefs.title': 'Preferencias',
  'prefs.lead': 'Se aplican al instante, en cada pestaña y dispositivo.',
  'prefs.theme': 'Tema',
  'prefs.theme.auto': 'Auto',
  'prefs.theme.light': 'Claro',
  'prefs.theme.dark': 'Oscuro',
  'prefs.language': 'Idioma',
  'prefs.fontSize': 'Tamaño de letra',

  'session.title': 'Sesión',
  'session.lead': 'Una clave con TTL: caduca en todas partes a la vez.',
  'session.none': 'Sin sesión',
  'session.noneDetail': 'Inicia una: dura {s} s, en cada dispositivo.',
  'session.active': 'Conectado como {user}',
  'session.startedOn': 'Iniciada en {device} a las {time}',
  'session.thisDevice': 'este dispositivo',
  'session.noExpiry': 'Sin caducidad (alguien quitó su TTL)',
  'session.expired': 'La sesión caducó.',
  'session.ended': 'La sesión terminó.',
  'session.start': 'Iniciar sesión ({s} s)',
  'session.extend': 'Ampliar',
  'session.end': 'Terminar',
  'session.secondsLeft': 'segundos restantes',

  'rate.title': 'Limitador de llamadas',
  'rate.lead': '{limit} llamadas cada {window} s, contadas en cada dispositivo, incluso sin conexión.',
  'rate.call': 'Llamar a la API',
  'rate.count': 'llamadas en esta ventana',
  'rate.resetsIn': 'la ventana se reinicia en {t}',
  'rate.noWindow': 'ninguna ventana abierta',
  'rate.idle': 'Pulsa el botón para llamar a la API.',
  'rate.allowed': 'Permitida: llamada {n} de {limit}',
  'rate.blocked': 'Bloqueada: {n} llamadas en esta ventana (límite {limit})',
  'rate.logAllowed': 'permitida',
  'rate.logBlocked': 'bloqueada',

  'kb.title': 'Explorador de claves',
  'kb.lead': 'Todas las claves del store, con su valor y TTL, actualizadas en vivo cuando escriben pestañas y dispositivos.',
  'kb.count.one': '{n} clave',
  'kb.count.other': '{n} claves',
  'kb.prefix': 'Filtrar por prefijo, p. ej. prefs:',
  'kb.key': 'Clave',
  'kb.value': 'Valor',
  'kb.ttl': 'TTL',
  'kb.noExpiry': 'ninguno',
  'kb.expired': 'caducada',
  'kb.edit': 'Editar',
  'kb.delete': 'Borrar',
  'kb.empty': 'Todavía no hay claves.',
  'kb.emptyPrefix': 'Ninguna clave empieza por «{prefix}».',
  'kb.more': 'Mostrar más',
  'kb.add': 'Añadir una clave',
  'kb.editing': 'Editar «{key}»',
  'kb.valueLabel': 'Valor (JSON)',
  'kb.ttlLabel': 'TTL en segundos (vacío: sin caducidad)',
  'kb.save': 'Guardar',
  'kb.new': 'Nueva clave',
  'kb.saved': '«{key}» guardada.',
  'kb.deleted': '«{key}» borrada.',
  'kb.invalidJson': 'JSON no válido: {message}',
  'kb.bytes': 'Este valor contiene bytes (un Uint8Array): no se puede editar como JSON.',
  'kb.ttlNotNumber': 'El TTL debe ser un número de segundos.',
  'kb.structure': '{type} · tamaño {n}',

  'lb.title': 'Clasificación',
  'lb.lead': 'Los puntos sumados en cada dispositivo cuentan todos, incluso sin conexión.',
  'lb.player': 'Jugador',
  'lb.set': 'Fijar puntos',
  'lb.count.one': '{n} jugador',
  'lb.count.other': '{n} jugadores',
  'lb.empty': 'Aún no hay puntos: pulsa +1.',
  'lb.me': '{player}: puesto {rank} de {total}, puntuación {score}',
  'lb.meNone': '{player} aún no tiene puntos.',
  'lb.reset': 'Poner a {player} a 0',
  'lb.invalidScore': 'La puntuación debe ser un número.',

  'activity.title': 'Actividad',
  'activity.lead': 'Lo que pasó en cada dispositivo, lo más reciente primero: un stream, limitado a sus últimas 200 entradas.',
  'activity.count.one': '{n} entrada',
  'activity.count.other': '{n} entradas',
  'activity.empty': 'Nada aún: suma un punto o cambia una preferencia.',
  'activity.someone': 'Alguien',
  'activity.score': '+{by} para {player}',
  'activity.setScore': 'puso a {player} en {score}',
  'activity.pref.theme': 'eligió el tema {value}',
  'activity.pref.language': 'cambió el idioma a {value}',
  'activity.pref.fontSize': 'puso la letra a {value} px',
  'activity.session.start': 'inició una sesión',
  'activity.session.extend': 'extendió la sesión',
  'activity.session.end': 'terminó la sesión',
  'activity.rate.allowed': 'llamó a la API (#{n}, permitida)',
  'activity.rate.blocked': 'llamó a la API (#{n}, bloqueada)',
  'activity.keySet': 'guardó la clave {key}',
  'activity.keyDelete': 'borró la clave {key}',

  'origin.tab': 'otra pestaña',
  'origin.remote': 'otro dispositivo',

  'sw.installing': 'Preparando el uso sin conexión…',
  'sw.ready': 'Funciona sin conexión',
  'sw.unsupported': 'Sin soporte sin conexión aquí',
  'sw.dev': 'Service worker desactivado en desarrollo',
  'sw.update': 'Hay una nueva versión de la demo.',
  'sw.reload': 'Recargar',
  'footer.store': 'Store',
  'footer.device': 'Este dispositivo',

  'error.open': 'No se pudo abrir el store.',
  'error.background': 'Error en segundo plano',
}

/** The languages the page speaks, in the order the picker lists them (each in its own name). */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'fr', name: 'Français' },
  { code: 'de', name: 'Deutsch' },
  { code: 'es', name: 'Español' },
] as const

export type Language = (typeof LANGUAGES)[number]['code']

const CATALOG: Record<Language, Messages> = { en, fr, de, es }

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && Object.hasOwn(CATALOG, value)
}

/** The browser's preferred language if the page speaks it, else English. */
export function defaultLanguage(): Language {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const code = tag.slice(0, 2).toLowerCase()
    if (isLanguage(code)) return code
  }
  return 'en'
}

/** The current language and its translations; tells listeners when it changes. */
export class I18n {
  private current: Language = 'en'
  private readonly listeners = new Set<() => void>()

  get language(): Language {
    return this.current
  }

  /** `key` in the current language, `{name}` replaced by `params.name`. */
  t(key: MessageKey, params: Record<string, string | number> = {}): string {
    return CATALOG[this.current][key].replace(/\{(\w+)\}/g, (whole, name: string) => String(params[name] ?? whole))
  }

  /** `<base>.one` for 1, else `<base>.other`, with `{n}` = n. */
  plural(base: 'hero.tabs' | 'status.presence.tabs' | 'status.presence.devices' | 'kb.count' | 'lb.count' | 'activity.count', n: number): string {
    return this.t(`${base}.${n === 1 ? 'one' : 'other'}`, { n })
  }

  /** Switches language: translates the marked static text, then tells the listeners. */
  set(language: Language): void {
    if (language === this.current) return
    this.current = language
    this.translate(document)
    for (const listener of this.listeners) listener()
  }

  /** Calls `cb` after each language change; returns the function that stops it. */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  /** Fills the text and attributes of every element under `root` marked with `data-i18n*`. */
  translate(root: ParentNode): void {
    document.documentElement.lang = this.current
    document.title = this.t('app.title')
    for (const el of root.querySelectorAll<HTMLElement>('[data-i18n]')) el.textContent = this.t(el.dataset.i18n as MessageKey)
    for (const [attr, data] of [
      ['placeholder', 'i18nPlaceholder'],
      ['title', 'i18nTitle'],
      ['aria-label', 'i18nAriaLabel'],
    ] as const) {
      for (const el of root.querySelectorAll<HTMLElement>(`[data-${attr === 'aria-label' ? 'i18n-aria-label' : `i18n-${attr}`}]`)) {
        el.setAttribute(attr, this.t(el.dataset[data] as MessageKey))
      }
    }
  }
}
