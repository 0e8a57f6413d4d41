#!/usr/bin/perl
# Checks that META.json is a valid PGXN META.json (spec 1.0.0: the required
# fields) and that its versions agree with tenancy.control, so a release
# cannot ship mismatched metadata.  Prints one PASS/FAIL line per check.
use strict;
use warnings;
use JSON::PP;
use File::Basename qw(dirname);

my $root = dirname(__FILE__) . '/../..';
my $failures = 0;
sub check {
    my ($ok, $what) = @_;
    print(($ok ? 'PASS ' : 'FAIL ') . "$what\n");
    $failures++ unless $ok;
}

open(my $control_fh, '<', "$root/tenancy.control") or die "tenancy.control: $!";
my ($control_version) = map { /^default_version\s*=\s*'([^']+)'/ ? $1 : () } <$control_fh>;

my $meta = eval {
    open(my $fh, '<', "$root/META.json") or die "META.json: $!";
    local $/;
    decode_json(<$fh>);
};
check(defined $meta, 'META.json parses as JSON') or exit 1;
check(($meta->{'meta-spec'}{version} // '') eq '1.0.0', 'META.json follows meta-spec 1.0.0');
for my $field (qw(name abstract version maintainer license provides)) {
    check(defined $meta->{$field}, "META.json has $field");
}
check(($meta->{name} // '') eq 'tenancy', 'META.json names the tenancy extension');
check(($meta->{version} // '') eq ($control_version // ''), 'META.json version matches tenancy.control');
check(($meta->{provides}{tenancy}{version} // '') eq ($control_version // ''),
      'META.json provides.tenancy.version matches tenancy.control');
check(defined $meta->{prereqs}{runtime}{requires}{PostgreSQL}
          && $meta->{prereqs}{runtime}{requires}{PostgreSQL} =~ /^15\./,
      'META.json requires PostgreSQL >= 15');

# tenancy_tap, the second extension of the distribution: META.json provides it
# at the version of its control file, from a script that exists, and its
# control file requires what it calls.
sub control_fields {
    my ($name) = @_;
    open(my $fh, '<', "$root/$name.control") or return {};
    # name = 'value' or name = value (booleans are written unquoted)
    my %fields = map { /^(\w+)\s*=\s*(?:'([^']*)'|(\S+))/ ? ($1 => $2 // $3) : () } <$fh>;
    return \%fields;
}
my $tap = control_fields('tenancy_tap');
check(defined $tap->{default_version}, 'tenancy_tap.control has a default_version');
my $tap_meta = $meta->{provides}{tenancy_tap} // {};
check(($tap_meta->{version} // '') eq ($tap->{default_version} // 'missing'),
      'META.json provides.tenancy_tap.version matches tenancy_tap.control');
check(defined $tap_meta->{file} && -f "$root/$tap_meta->{file}",
      'META.json provides.tenancy_tap.file exists');
check(-f "$root/sql/tenancy_tap--" . ($tap->{default_version} // 'missing') . '.sql',
      'tenancy_tap has a full script for its default_version');
check(join(',', sort split /\s*,\s*/, $tap->{requires} // '') eq 'pgtap,tenancy',
      'tenancy_tap.control requires pgtap and tenancy');
check(($tap->{schema} // '') eq 'tenancy_tap' && ($tap->{relocatable} // '') eq 'false',
      'tenancy_tap installs into its own fixed schema');
exit($failures ? 1 : 0);
